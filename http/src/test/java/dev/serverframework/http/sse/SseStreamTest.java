package dev.serverframework.http.sse;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.serverframework.http.HttpTestSupport.assertCleanEof;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stream's life on real sockets, in both execution modes: what the handler learns of the request, the
 * heartbeat after a quiet interval, a broadcast through {@code Server.each}, a slow reader cut while the
 * others go on, and each way a stream ends (server stop, client gone, {@code close()} from another thread, a
 * client that floods it), with {@code onClose} once.
 */
class SseStreamTest {
    private static final String SERVICE = "news";

    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    private RecordingSseHandler start(Execution mode, SseOptions.Builder options, Consumer<SseStream> onOpen) {
        RecordingSseHandler handler = new RecordingSseHandler(onOpen);
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .sse("/events/{topic}", options.service(SERVICE).build(), handler)
                .build());
        return handler;
    }

    private RecordingSseHandler start(Execution mode) {
        return start(mode, SseOptions.builder(), s -> { });
    }

    private static String chunk(SseEvent e) {
        return new String(e.encoded(), StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void theHandlerSeesLastEventIdTargetAndPathParameters(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode, SseOptions.builder(),
                s -> s.send(SseEvent.of(s.lastEventId() == null ? "1" : String.valueOf(Integer.parseInt(s.lastEventId()) + 1),
                        null, "after " + s.lastEventId())));
        HttpResponse<Stream<String>> res = HttpTestSupport.newClient().send(
                HttpTestSupport.request(server, "/events/sports?since=today").header("Last-Event-ID", "41").build(),
                HttpResponse.BodyHandlers.ofLines());
        SseStream stream = handler.nextOpened();
        assertEquals("41", stream.lastEventId());
        assertEquals("/events/sports?since=today", stream.uri());
        assertEquals(Map.of("topic", "sports"), stream.pathParams());
        assertEquals("sports", stream.pathParam("topic"));
        try (Stream<String> lines = res.body()) {
            Iterator<String> it = lines.iterator();
            assertEquals("id: 42", it.next());
            assertEquals("data: after 41", it.next());
            stream.close();
        }

        try (SseTestClient c = SseTestClient.get(server.port(), "/events/weather")) {
            assertEquals(200, c.readHead());
            assertEquals("id: 1\ndata: after null\n\n", c.readChunk());
            assertNull(handler.nextOpened().lastEventId(), "a first connection sends no Last-Event-ID");
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aHeartbeatCommentGoesOutAfterEachQuietInterval(Execution mode) throws Exception {
        start(mode, SseOptions.builder().heartbeat(Duration.ofSeconds(1)), s -> s.send("hello"));
        try (SseTestClient c = SseTestClient.get(server.port(), "/events/quiet")) {
            assertEquals(200, c.readHead());
            assertEquals("data: hello\n\n", c.readChunk());
            long last = System.nanoTime();
            for (int i = 0; i < 2; i++) {
                // The read blocks (10 s at most) until the server writes: no sleep decides anything here.
                assertEquals(": heartbeat\n", c.readChunk(), "heartbeat " + i);
                long now = System.nanoTime();
                long quietMillis = (now - last) / 1_000_000;
                assertTrue(quietMillis >= 800, "heartbeat " + i + " after only " + quietMillis + " ms of quiet");
                last = now;
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aBroadcastThroughEachReachesEveryStreamEncodedOnce(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode);
        List<SseTestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                SseTestClient c = SseTestClient.get(server.port(), "/events/t" + i);
                clients.add(c);
                assertEquals(200, c.readHead());
            }
            Await.until("3 streams open", () -> handler.opened.size() == 3);
            assertEquals(3, server.count(SERVICE));
            assertEquals(0, server.count("http"), "the streams left the HTTP service");
            for (int round = 0; round < 3; round++) {
                SseEvent event = SseEvent.of(String.valueOf(round), "tick", "round " + round + "\nof 3");
                CountDownLatch done = new CountDownLatch(1);
                int targets = server.each(null, SERVICE, c -> assertTrue(SseStream.of(c).send(event)), done::countDown);
                assertEquals(3, targets);
                assertTrue(done.await(10, TimeUnit.SECONDS));
                byte[] encoded = event.encoded();
                for (SseTestClient c : clients) {
                    assertEquals(chunk(event), c.readChunk(), "round " + round);
                }
                assertSame(encoded, event.encoded());
            }
            assertEquals(0, server.statistics().callbackFailures(), "a broadcast task failed");
        } finally {
            clients.forEach(SseTestClient::close);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aClientThatDoesNotReadIsCutAndTheOthersKeepReceiving(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode,
                SseOptions.builder().maxQueuedBytes(64 * 1024).dropGrace(Duration.ofMillis(200)), s -> { });
        SseEvent big = SseEvent.data("x".repeat(16 * 1024));
        try (RawClient slow = new RawClient(server.port());
             SseTestClient reader = SseTestClient.get(server.port(), "/events/reader")) {
            assertEquals(200, reader.readHead());
            SseStream readerStream = handler.nextOpened();
            slow.send(HttpTestSupport.get("/events/slow"));
            SseStream slowStream = handler.nextOpened();
            assertEquals("/events/slow", slowStream.uri());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int sent = 0;
            // Lockstep with the reader: its queue never holds more than one event, while the slow client's
            // socket buffers fill and then its queue grows past the cap.
            while (slowStream.isOpen()) {
                assertTrue(System.nanoTime() < deadline, "the slow stream was still open after " + sent + " events");
                CountDownLatch done = new CountDownLatch(1);
                server.each(null, SERVICE, c -> SseStream.of(c).send(big), done::countDown);
                assertTrue(done.await(10, TimeUnit.SECONDS));
                assertEquals(chunk(big), reader.readChunk(), "event " + sent);
                sent++;
            }
            assertFalse(slowStream.send("more"), "a send to an ended stream is refused");
            Await.until("the slow stream closed", () -> handler.closeCount(slowStream) == 1);
            Await.until("the slow client gone from the service", () -> server.count(SERVICE) == 1);
            assertTrue(readerStream.isOpen());
            assertTrue(readerStream.queuedBytes() <= big.encoded().length + 16, "the reader's queue drained");
            SseEvent after = SseEvent.data("still here");
            assertEquals(1, server.each(null, SERVICE, c -> SseStream.of(c).send(after), null));
            assertEquals(chunk(after), reader.readChunk());
            assertEquals(0, handler.closeCount(readerStream));
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aServerStopEndsTheStreamWithItsLastChunkThenAFin(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode, SseOptions.builder(), s -> s.send("before the stop"));
        try (SseTestClient c = SseTestClient.get(server.port(), "/events/stop")) {
            assertEquals(200, c.readHead());
            assertEquals("data: before the stop\n\n", c.readChunk());
            SseStream stream = handler.nextOpened();
            server.stop();
            assertNull(c.readChunk(), "the stop ends the stream with its last chunk");
            assertCleanEof(c.raw);
            // The client closes on the end of stream, as a real one does; the server's lingering close waits for it.
            c.close();
            assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
            assertEquals(1, handler.closeCount(stream));
            assertFalse(stream.send("after the stop"));
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aClientThatGoesAwayClosesItsStreamOnce(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode);
        SseTestClient fin = SseTestClient.get(server.port(), "/events/fin");
        assertEquals(200, fin.readHead());
        SseStream finStream = handler.nextOpened();
        SseTestClient reset = SseTestClient.get(server.port(), "/events/reset");
        assertEquals(200, reset.readHead());
        SseStream resetStream = handler.nextOpened();

        fin.close();
        reset.raw.reset();
        Await.until("both streams closed", () -> handler.closeCount(finStream) == 1 && handler.closeCount(resetStream) == 1);
        Await.until("both connections gone", () -> server.count(null) == 0);
        assertFalse(finStream.isOpen());
        assertFalse(resetStream.send("gone"), "a send to a closed stream is refused");
        // A later stop finds nothing more to tell the handler.
        server.stop();
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        assertEquals(1, handler.closeCount(finStream));
        assertEquals(1, handler.closeCount(resetStream));
        assertEquals(2, handler.closes.size());
    }

    /**
     * A client that half-closes right behind its request: the end of its input may reach the server while
     * the connection is still HTTP, and the stream must still end whole, not be cut after its head.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void aClientThatHalfClosesRightAfterItsRequestGetsTheWholeStream(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode, SseOptions.builder(), s -> s.send("hi"));
        for (int i = 0; i < 20; i++) {
            try (SseTestClient c = SseTestClient.get(server.port(), "/events/half")) {
                c.raw.socket().shutdownOutput();
                assertEquals(200, c.readHead(), "attempt " + i);
                assertEquals("data: hi\n\n", c.readChunk(), "attempt " + i);
                assertNull(c.readChunk(), "attempt " + i + ": the stream ends with its last chunk");
                assertCleanEof(c.raw);
            }
            SseStream stream = handler.nextOpened();
            Await.until("onClose of attempt " + i, () -> handler.closeCount(stream) == 1);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void closeFromAnyThreadEndsTheStreamAfterWhatWasSent(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode);
        try (SseTestClient c = SseTestClient.get(server.port(), "/events/close")) {
            assertEquals(200, c.readHead());
            SseStream stream = handler.nextOpened();
            Thread other = new Thread(() -> {
                for (int i = 0; i < 100; i++) {
                    stream.send("event " + i);
                }
                stream.close();
            });
            other.start();
            for (int i = 0; i < 100; i++) {
                assertEquals("data: event " + i + "\n\n", c.readChunk());
            }
            assertNull(c.readChunk());
            assertCleanEof(c.raw);
            c.close();
            other.join(10_000);
            assertFalse(stream.isOpen());
            assertFalse(stream.comment("late"));
            Await.until("onClose", () -> handler.closeCount(stream) == 1);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aClientThatFloodsItsStreamIsEndedAsAProtocolError(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode);
        try (SseTestClient c = SseTestClient.get(server.port(), "/events/flood")) {
            assertEquals(200, c.readHead());
            SseStream stream = handler.nextOpened();
            long errorsBefore = server.statistics().protocolErrors();
            c.raw.send(new byte[4096]);
            assertTrue(stream.send("a little input is ignored"));
            assertEquals("data: a little input is ignored\n\n", c.readChunk());
            c.raw.send(new byte[32 * 1024]);
            assertNull(c.readChunk(), "the stream ends with its last chunk");
            assertCleanEof(c.raw);
            c.close();
            Await.until("onClose", () -> handler.closeCount(stream) == 1);
            assertEquals(errorsBefore + 1, server.statistics().protocolErrors());
        }
    }
}
