package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Back-pressure in a broadcast: a client that does not read has at most the route's
 * {@code maxQueuedBytes} waiting for it; the send that would pass that closes it with 1008 and a reason
 * (after what was queued), and the other clients, fed round after round, never wait for it. A slow client
 * that reads in time gets everything queued, the close frame, then the end of stream; one that never
 * reads is cut after the close timeout.
 */
class SlowReaderTest extends WebSocketTestBase {
    private static final int MESSAGE = 32 * 1024;
    private static final long MAX_QUEUED = 128 * 1024;

    /** Per connection id: how many broadcast sends it accepted, and whether one was refused. */
    private final Map<Long, AtomicLong> accepted = new ConcurrentHashMap<>();
    private final Map<Long, Boolean> refused = new ConcurrentHashMap<>();
    private final AtomicLong maxQueuedSeen = new AtomicLong();

    private void broadcast(PreparedMessage m) {
        server.each(null, "websocket", c -> {
            WebSocket ws = WebSocket.of(c);
            if (ws.send(m)) {
                accepted.computeIfAbsent(c.id(), k -> new AtomicLong()).incrementAndGet();
            } else {
                refused.put(c.id(), true);
            }
            maxQueuedSeen.accumulateAndGet(ws.queuedBytes(), Math::max);
        }, null);
    }

    /**
     * Broadcasts one message per round to every socket; each fast client must receive it before the next
     * round. Returns the rounds it took until the slow socket was closed.
     */
    private int broadcastUntilClosed(WebSocket slow, List<NettyWsClient> fast) {
        PreparedMessage m = PreparedMessage.binary(new byte[MESSAGE]);
        int rounds = 0;
        while (slow.isOpen()) {
            assertTrue(rounds < 2000, "the slow socket is still open after " + rounds + " rounds of " + MESSAGE + " bytes");
            broadcast(m);
            for (NettyWsClient c : fast) {
                assertEquals(MESSAGE, c.nextBinary().length, "round " + rounds);
            }
            rounds++;
        }
        return rounds;
    }

    /** The slow client reads after all, before the close timeout: every accepted message, the 1008, the end. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void slowReaderIsClosedWith1008AfterWhatWasQueued(Execution mode) {
        start(mode, WebSocketOptions.builder().maxQueuedBytes(MAX_QUEUED).closeTimeout(Duration.ofSeconds(10)).build());
        NettyWsClient fast1 = netty();
        WebSocket fastSocket1 = recorder.awaitOpen();
        NettyWsClient fast2 = netty();
        WebSocket fastSocket2 = recorder.awaitOpen();
        RawWs slowClient = track(RawWs.connect(server, 4096));
        slowClient.send(RawWs.handshake("/ws"));
        slowClient.expectSwitch();
        WebSocket slow = recorder.awaitOpen();

        int rounds = broadcastUntilClosed(slow, List.of(fast1, fast2));
        // The socket stops being open inside the refused send, a moment before the task records the refusal.
        dev.serverframework.core.testing.Await.until("the send that passed the limit refused",
                () -> refused.containsKey(slow.connection().id()));
        assertFalse(refused.containsKey(fastSocket1.connection().id()) || refused.containsKey(fastSocket2.connection().id()),
                "a fast client was refused a send");
        assertTrue(slow.queuedBytes() <= MAX_QUEUED, "queued " + slow.queuedBytes());
        assertTrue(maxQueuedSeen.get() <= MAX_QUEUED, "queued at most " + maxQueuedSeen.get());
        // The fast ones go on being served.
        broadcast(PreparedMessage.text("after"));
        assertEquals("after", fast1.nextText());
        assertEquals("after", fast2.nextText());

        long got = 0;
        RawWs.Frame f;
        while ((f = slowClient.read()).opcode() == RawWs.BINARY) {
            assertEquals(MESSAGE, f.payload().length);
            got++;
        }
        assertEquals(RawWs.CLOSE, f.opcode(), "after the queued messages: " + f);
        assertEquals(1008, f.closeCode());
        assertTrue(f.closeReason().contains("slow"), "the reason says why: " + f.closeReason());
        assertEquals(accepted.get(slow.connection().id()).get(), got, "every accepted message arrived, no more");
        assertTrue(got < rounds, "the slow socket got " + got + " of " + rounds);
        slowClient.expectEof();
        slowClient.close();
        Recorder.Closed closed = recorder.awaitClose(slow, 1008);
        assertEquals(f.closeReason(), closed.reason());
        assertStillServed(fast1);
    }

    /** The slow client never reads: cut once the close timeout has passed, without anyone waiting for it. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void readerThatNeverReadsIsCutAfterTheCloseTimeout(Execution mode) {
        start(mode, WebSocketOptions.builder().maxQueuedBytes(MAX_QUEUED).closeTimeout(Duration.ofMillis(300)).build());
        NettyWsClient fast = netty();
        recorder.awaitOpen();
        RawWs slowClient = track(RawWs.connect(server, 4096));
        slowClient.send(RawWs.handshake("/ws"));
        slowClient.expectSwitch();
        WebSocket slow = recorder.awaitOpen();

        broadcastUntilClosed(slow, List.of(fast));
        Recorder.Closed closed = recorder.awaitClose(slow, 1008);
        assertTrue(closed.reason().contains("slow"), closed.reason());
        assertFalse(slow.connection().isOpen(), "cut while its client still did not read");
        assertEquals(1, server.count("websocket"));
        assertStillServed(fast);
    }
}
