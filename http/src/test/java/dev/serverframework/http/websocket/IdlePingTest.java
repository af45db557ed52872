package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The idle timeout on a WebSocket: a quiet socket gets a ping instead of being closed; a peer that answers
 * stays connected, one that does not is disconnected at the next timeout (1006: no close frame came). The
 * route's own idle timeout overrides the server's.
 */
class IdlePingTest extends WebSocketTestBase {
    private static final Duration IDLE = Duration.ofMillis(400);

    private void start(Execution mode) {
        start(mode, WebSocketOptions.defaults(), b -> b.idleTimeout(IDLE));
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void quietSocketIsPingedAndStaysOpenWhileThePeerAnswers(Execution mode) {
        start(mode);
        NettyWsClient client = netty();
        WebSocket socket = recorder.awaitOpen();
        long start = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            NettyWsClient.Received ping = client.next();
            assertEquals(RawWs.PING, ping.opcode(), "expected a ping, got " + ping);
            assertTrue(ping.payload().length <= 125);
        }
        long waited = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(waited >= 2 * IDLE.toMillis(), "three pings after " + waited + " ms: not one per idle period");
        assertTrue(client.isOpen() && socket.isOpen(), "a peer that answers pings is not closed");
        assertEquals("still there", client.echo("still there"));
        client.assertNoErrors();
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void peerThatDoesNotAnswerThePingIsClosed(Execution mode) {
        start(mode);
        NettyWsClient bystander = netty();
        recorder.awaitOpen();
        RawWs silent = raw();
        WebSocket socket = recorder.awaitOpen();
        RawWs.Frame ping = silent.read();
        assertEquals(RawWs.PING, ping.opcode(), "expected a ping, got " + ping);
        long pinged = System.nanoTime();
        silent.expectEof();
        long waited = Duration.ofNanos(System.nanoTime() - pinged).toMillis();
        assertTrue(waited >= IDLE.toMillis() / 2, "closed " + waited + " ms after the ping: no time to answer");
        silent.close();
        recorder.awaitClose(socket, 1006);
        assertStillServed(bystander);
    }

    /** The server's idle timeout is off; the route's is 1 s: the route's applies to its sockets. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void routesIdleTimeoutOverridesTheServers(Execution mode) {
        start(mode, WebSocketOptions.builder().idleTimeout(Duration.ofSeconds(1)).build(), b -> b.idleTimeout(Duration.ZERO));
        RawWs ws = raw();
        recorder.awaitOpen();
        long start = System.nanoTime();
        RawWs.Frame ping = ws.read();
        assertEquals(RawWs.PING, ping.opcode());
        long waited = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(waited >= 500, "pinged after " + waited + " ms, not after the route's idle timeout");
        ws.send(RawWs.frame(RawWs.PONG, ping.payload()), RawWs.text("answered"));
        assertEquals("answered", ws.readText());
    }
}
