package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graceful stop tells every WebSocket it is going away (1001, with a reason) and ends each connection,
 * whether the client answers the close or not; each socket's {@code onClose} says 1001, and the server
 * stops within its grace period.
 */
class WebSocketStopTest extends WebSocketTestBase {

    @ParameterizedTest
    @EnumSource(Execution.class)
    void stopSendsGoingAwayToEverySocket(Execution mode) throws Exception {
        start(mode, WebSocketOptions.defaults(), b -> b.drainWindow(Duration.ofMillis(200)));
        NettyWsClient answering = netty();
        WebSocket answeringSocket = recorder.awaitOpen();
        NettyWsClient silent = netty();
        WebSocket silentSocket = recorder.awaitOpen();
        RawWs raw = raw();
        WebSocket rawSocket = recorder.awaitOpen();
        assertEquals("busy", answering.echo("busy"));

        long start = System.nanoTime();
        server.stop();
        NettyWsClient.Received close = answering.expectClose(1001);
        assertFalse(close.closeReason().isEmpty(), "a going-away close says why");
        answering.send(new CloseWebSocketFrame(1001, ""));
        answering.awaitClosed();
        silent.expectCloseAndEnd(1001);
        raw.expectCloseAndEof(1001);
        raw.close();
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)), "the server did not stop");
        long took = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(took < 4000, "stop took " + took + " ms, close to the grace period: a socket held it up");
        answering.assertNoErrors();
        for (WebSocket s : new WebSocket[]{answeringSocket, silentSocket, rawSocket}) {
            recorder.awaitClose(s, 1001);
            assertFalse(s.isOpen());
            assertFalse(s.send("after the stop"), "send after the stop");
        }
    }

    /** A socket in the middle of receiving a fragmented message is told too; the fragments are dropped. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void stopDuringAFragmentedMessage(Execution mode) throws Exception {
        start(mode, WebSocketOptions.defaults(), b -> b.drainWindow(Duration.ofMillis(200)));
        RawWs raw = raw();
        WebSocket socket = recorder.awaitOpen();
        raw.send(RawWs.frame(false, 0, RawWs.TEXT, "half of".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        raw.send(RawWs.frame(RawWs.PING, new byte[]{1}));
        assertEquals(RawWs.PONG, raw.read().opcode(), "the fragment and the ping were read");
        server.stop();
        raw.expectCloseAndEof(1001);
        raw.close();
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        recorder.awaitClose(socket, 1001);
        assertEquals(null, recorder.texts.poll(), "no message was completed");
    }
}
