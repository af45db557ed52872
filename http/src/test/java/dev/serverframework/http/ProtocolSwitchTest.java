package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.sse.SseHandler;
import dev.serverframework.http.sse.SseStream;
import dev.serverframework.http.websocket.WebSocket;
import dev.serverframework.http.websocket.WebSocketHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connection taken out of HTTP by a route (here WebSocket), seen from a raw socket: the switch keeps its
 * place among pipelined requests, bytes sent behind the upgrade request reach the next protocol and not the
 * HTTP parser, a declined upgrade leaves the connection answering HTTP, and a switch that meets a stop is
 * refused with a 503.
 */
class ProtocolSwitchTest {
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    static String handshake(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    /** A masked client text frame. */
    static byte[] clientText(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {7, 1, 9, 3};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x81);
        out.write(0x80 | payload.length);
        out.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            out.write(payload[i] ^ mask[i & 3]);
        }
        return out.toByteArray();
    }

    /** The unmasked server text frame of a short message. */
    static byte[] serverText(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[payload.length + 2];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) payload.length;
        System.arraycopy(payload, 0, frame, 2, payload.length);
        return frame;
    }

    private static WebSocketHandler echo(LinkedBlockingQueue<String> texts) {
        return new WebSocketHandler() {
            @Override
            public void onText(WebSocket socket, String text) {
                texts.add(text);
                socket.send(text);
            }
        };
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aFrameSentWithTheHandshakeReachesTheWebSocket(Execution mode) {
        LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode).websocket("/ws", echo(texts)).build());
        try (RawClient c = new RawClient(server.port())) {
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.writeBytes(handshake("/ws").getBytes(StandardCharsets.US_ASCII));
            both.writeBytes(clientText("early"));
            c.send(both.toByteArray());
            HttpTestSupport.RawResponse switched = HttpTestSupport.read(c, true);
            assertEquals(101, switched.status());
            assertEquals(ACCEPT, switched.header("Sec-WebSocket-Accept"));
            assertNull(switched.header("Content-Length"), "a 101 has no body framing");
            assertArrayEquals(serverText("early"), c.readExactly(7));
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aDeclinedUpgradeLeavesTheConnectionAnsweringHttp(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/plain", req -> Response.text("plain"))
                .websocket("/ws", echo(new LinkedBlockingQueue<>()))
                .build());
        try (RawClient c = new RawClient(server.port())) {
            String badVersion = handshake("/ws").replace("Version: 13", "Version: 8");
            c.send(handshake("/plain") + badVersion + HttpTestSupport.get("/plain"));
            HttpTestSupport.RawResponse ignored = HttpTestSupport.read(c);
            assertEquals(200, ignored.status(), "a plain route ignores Upgrade");
            assertEquals("plain", ignored.bodyText());
            HttpTestSupport.RawResponse refused = HttpTestSupport.read(c);
            assertEquals(426, refused.status());
            assertEquals("13", refused.header("Sec-WebSocket-Version"));
            HttpTestSupport.RawResponse next = HttpTestSupport.read(c);
            assertEquals(200, next.status());
            assertEquals("plain", next.bodyText());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void theSwitchWaitsForTheResponsesBeforeIt(Execution mode) throws Exception {
        CompletableFuture<Response> slow = new CompletableFuture<>();
        LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .getAsync("/slow", req -> slow)
                .websocket("/ws", echo(texts))
                .build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(HttpTestSupport.get("/slow") + handshake("/ws"));
            assertTrue(HttpTestSupport.silentFor(c, 200), "nothing before the slow answer");
            slow.complete(Response.text("slow"));
            HttpTestSupport.RawResponse first = HttpTestSupport.read(c);
            assertEquals(200, first.status());
            assertEquals("slow", first.bodyText());
            assertEquals(101, HttpTestSupport.read(c, true).status());
            c.send(clientText("after"));
            assertArrayEquals(serverText("after"), c.readExactly(7));
            assertEquals("after", texts.poll(5, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aSwitchThatMeetsAStopIsRefused(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .websocket("/ws", new WebSocketHandler() {
                    @Override
                    public boolean accept(Request handshake) {
                        handshake.connection().server().stop();
                        return true;
                    }
                })
                .build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(handshake("/ws"));
            HttpTestSupport.RawResponse refused = HttpTestSupport.read(c);
            assertEquals(503, refused.status());
            assertEquals("close", refused.header("Connection"));
            HttpTestSupport.assertCleanEof(c);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aClientThatHalfClosesAfterTheHandshakeIsSwitchedThenClosed(Execution mode) throws Exception {
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .websocket("/ws", new WebSocketHandler() {
                    @Override
                    public void onClose(WebSocket socket, int code, String reason) {
                        closed.complete(code);
                    }
                })
                .build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(handshake("/ws"));
            c.socket().shutdownOutput();
            assertEquals(101, HttpTestSupport.read(c, true).status());
            HttpTestSupport.assertCleanEof(c);
            assertEquals(1006, closed.get(5, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aSecondSwitchPipelinedBehindTheFirstDoesNotSpoilIt(Execution mode) throws Exception {
        LinkedBlockingQueue<String> opened = new LinkedBlockingQueue<>();
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .sse("/events", new SseHandler() {
                    @Override
                    public void onOpen(SseStream stream) {
                        opened.add(stream.uri());
                        stream.send("hi");
                    }
                })
                .build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(HttpTestSupport.get("/events?first") + HttpTestSupport.get("/events?second"));
            HttpTestSupport.RawResponse head = HttpTestSupport.read(c, true);
            assertEquals(200, head.status());
            String line;
            do {
                line = c.readLine();
            } while (!line.startsWith("data:"));
            assertEquals("data: hi", line);
            assertEquals("/events?first", opened.poll(5, TimeUnit.SECONDS));
            assertNull(opened.poll(200, TimeUnit.MILLISECONDS), "the second request opened nothing");
        }
    }
}
