package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static dev.serverframework.http.websocket.RawWs.CLOSE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The closing handshake (RFC 6455 5.5.1, 7): a client's close is echoed with its code and the server then
 * closes TCP (7.1.1); a server's close waits for the client's answer, or is cut after the close timeout;
 * nothing is delivered or sent after a close; an end without a close frame is 1006. Each socket's
 * {@code onClose} runs once, with the code that closed it.
 */
class CloseHandshakeTest extends WebSocketTestBase {
    private static final Duration CLOSE_TIMEOUT = Duration.ofMillis(500);

    private void start(Execution mode) {
        start(mode, WebSocketOptions.builder().closeTimeout(CLOSE_TIMEOUT).build());
    }

    static Stream<Arguments> sendableCodes() {
        return Stream.of(Execution.values()).flatMap(m -> IntStream.of(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                1011, 1012, 1013, 1014, 3000, 4000, 4999).mapToObj(code -> Arguments.of(m, code)));
    }

    /** The close frame comes back with the client's code, then a clean end of stream: the server closes TCP. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("sendableCodes")
    void clientCloseIsEchoedWithItsCodeThenTheServerClosesTcp(Execution mode, int code) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        ws.send(RawWs.close(code, "bye"));
        ws.expectCloseAndEof(code);
        ws.close();
        Recorder.Closed c = recorder.awaitClose(socket, code);
        assertEquals("bye", c.reason());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void nettyClientCloseIsEchoedThenTheServerClosesTcp(Execution mode) {
        start(mode);
        NettyWsClient client = netty();
        WebSocket socket = recorder.awaitOpen();
        String reason = "r".repeat(123);
        client.send(new CloseWebSocketFrame(4321, reason));
        client.expectCloseAndEnd(4321);
        assertEquals(reason, recorder.awaitClose(socket, 4321).reason(), "the longest reason arrives whole");
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void closeWithoutACodeIsAnsweredAndReportedAs1005(Execution mode) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        ws.send(RawWs.frame(CLOSE, new byte[0]));
        RawWs.Frame echo = ws.readData();
        assertEquals(CLOSE, echo.opcode());
        assertTrue(echo.payload().length == 0 || echo.closeCode() == 1000, "answered with no code or 1000: " + echo);
        ws.expectEof();
        ws.close();
        assertEquals("", recorder.awaitClose(socket, 1005).reason());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void nothingAfterTheClientsCloseIsDelivered(Execution mode) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        ws.send(RawWs.text("first"), RawWs.close(1000, ""), RawWs.text("late"), RawWs.frame(RawWs.PING, new byte[0]));
        assertEquals("first", ws.readText());
        ws.expectCloseAndEof(1000);
        ws.close();
        recorder.awaitClose(socket, 1000);
        assertEquals("first", recorder.awaitText());
        assertNull(recorder.texts.poll(), "a message after the close frame was delivered");
    }

    /** The server closes; the client answers; the connection then ends, and onClose has the server's code. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void serverCloseAnsweredByTheClient(Execution mode) {
        start(mode);
        NettyWsClient client = netty();
        WebSocket socket = recorder.awaitOpen();
        client.sendText("close 4000 done");
        NettyWsClient.Received close = client.expectClose(4000);
        assertEquals("done", close.closeReason());
        client.send(new CloseWebSocketFrame(4000, ""));
        client.awaitClosed();
        client.assertNoErrors();
        assertEquals("done", recorder.awaitClose(socket, 4000).reason());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void serverCloseAnsweredByARawClientEndsWithAFin(Execution mode) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        ws.send(RawWs.text("close 1000 bye"));
        assertEquals("bye", ws.expectClose(1000).closeReason());
        ws.send(RawWs.close(1000, ""));
        ws.expectEof();
        ws.close();
        assertEquals("bye", recorder.awaitClose(socket, 1000).reason());
    }

    /** A client that never answers the server's close is disconnected once the close timeout has passed. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void serverCloseNeverAnsweredIsCutAfterTheCloseTimeout(Execution mode) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        ws.send(RawWs.text("close 4001 answer me"));
        ws.expectClose(4001);
        long sent = System.nanoTime();
        ws.expectEof();
        long waited = Duration.ofNanos(System.nanoTime() - sent).toMillis();
        assertTrue(waited >= CLOSE_TIMEOUT.toMillis() / 2, "closed after " + waited + " ms, before the peer could answer");
        ws.close();
        assertEquals("answer me", recorder.awaitClose(socket, 4001).reason());
    }

    /**
     * The server closes a socket whose client reads nothing, with messages still queued for it: the close
     * frame cannot even be sent, so the close timeout cuts the connection (the framework's much longer
     * write-stall timeout must not be what ends it).
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void serverCloseToAClientThatDoesNotReadIsCutAfterTheCloseTimeout(Execution mode) {
        start(mode, WebSocketOptions.builder().closeTimeout(CLOSE_TIMEOUT).maxQueuedBytes(64 << 20).build());
        RawWs ws = track(RawWs.connect(server, 4096));
        ws.send(RawWs.handshake("/ws"));
        ws.expectSwitch();
        WebSocket socket = recorder.awaitOpen();
        byte[] chunk = new byte[64 * 1024];
        // Far more than the socket buffers hold: some stays queued in the server.
        for (int i = 0; i < 128; i++) {
            assertTrue(socket.send(chunk));
        }
        dev.serverframework.core.testing.Await.until("messages queued for the client", () -> socket.queuedBytes() > 0);
        long start = System.nanoTime();
        socket.close(1000, "bye");
        recorder.awaitClose(socket, 1000);
        long took = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(took < 5000, "cut after " + took + " ms, not after the close timeout");
        assertFalse(socket.connection().isOpen());
    }

    /**
     * A client breaks a rule and then reads nothing, with messages queued for it: the server's close frame
     * cannot go out, and the connection is cut after the close timeout.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void violatorThatDoesNotReadIsCutAfterTheCloseTimeout(Execution mode) {
        start(mode, WebSocketOptions.builder().closeTimeout(CLOSE_TIMEOUT).maxQueuedBytes(64 << 20).build());
        RawWs ws = track(RawWs.connect(server, 4096));
        ws.send(RawWs.handshake("/ws"));
        ws.expectSwitch();
        WebSocket socket = recorder.awaitOpen();
        byte[] chunk = new byte[64 * 1024];
        for (int i = 0; i < 128; i++) {
            assertTrue(socket.send(chunk));
        }
        dev.serverframework.core.testing.Await.until("messages queued for the client", () -> socket.queuedBytes() > 0);
        ws.send(RawWs.frame(0x81, false, "unmasked".getBytes(StandardCharsets.UTF_8)));
        recorder.awaitClose(socket, 1002);
        dev.serverframework.core.testing.Await.until("the connection cut after the close timeout", Duration.ofSeconds(5),
                () -> !socket.connection().isOpen());
    }

    /** Both sides close at once: the server's close stands, the client's answers it, TCP ends. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void closesCrossingEachOther(Execution mode) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        ws.send(RawWs.text("close 4002 mine"), RawWs.close(1000, "yours"));
        ws.expectCloseAndEof(4002);
        ws.close();
        recorder.awaitClose(socket, 4002);
    }

    /** Close from any thread: sends stop at once, a second close is ignored, the frame goes out once. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void closeFromAnotherThreadStopsSendsAndHappensOnce(Execution mode) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        assertTrue(socket.isOpen());
        socket.close(1001, "going");
        assertFalse(socket.isOpen());
        assertFalse(socket.send("too late"), "send after close");
        assertFalse(socket.send(new byte[1]), "send after close");
        assertFalse(socket.send(PreparedMessage.text("too late")), "send after close");
        socket.close(1000, "again");
        assertEquals("going", ws.expectClose(1001).closeReason());
        ws.send(RawWs.close(1001, ""));
        ws.expectEof();
        ws.close();
        recorder.awaitClose(socket, 1001);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void closeArgumentsAreChecked(Execution mode) {
        start(mode);
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        for (int code : new int[]{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
            assertThrows(IllegalArgumentException.class, () -> socket.close(code, ""), "code " + code);
        }
        assertThrows(IllegalArgumentException.class, () -> socket.close(1000, "é".repeat(62)), "124 bytes of reason");
        assertTrue(socket.isOpen(), "a refused close leaves the socket open");
        String longest = "é".repeat(61) + "x";
        assertEquals(123, longest.getBytes(StandardCharsets.UTF_8).length);
        socket.close(3999, longest);
        assertEquals(longest, ws.expectClose(3999).closeReason());
        ws.send(RawWs.close(3999, ""));
        ws.expectEof();
        ws.close();
        recorder.awaitClose(socket, 3999);
    }

    /**
     * A client gone without a close frame, by reset or by FIN, between messages or in the middle of a
     * fragmented one: 1006, not a protocol error.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void endWithoutACloseFrameIs1006(Execution mode) throws Exception {
        start(mode);
        NettyWsClient bystander = netty();
        recorder.awaitOpen();
        for (boolean midMessage : new boolean[]{false, true}) {
            RawWs reset = raw();
            WebSocket resetSocket = recorder.awaitOpen();
            RawWs fin = raw();
            WebSocket finSocket = recorder.awaitOpen();
            if (midMessage) {
                for (RawWs ws : new RawWs[]{reset, fin}) {
                    ws.send(RawWs.frame(false, 0, RawWs.BINARY, new byte[]{1}), RawWs.frame(RawWs.PING, new byte[0]));
                    assertEquals(RawWs.PONG, ws.read().opcode(), "the fragment was read");
                }
            }
            reset.socket().setSoLinger(true, 0);
            reset.close();
            fin.socket().shutdownOutput();
            fin.expectEof();
            fin.close();
            recorder.awaitClose(resetSocket, 1006);
            recorder.awaitClose(finSocket, 1006);
        }
        assertStillServed(bystander);
    }
}
