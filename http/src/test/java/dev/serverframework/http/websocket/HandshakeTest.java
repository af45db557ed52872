package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The opening handshake (RFC 6455 4.2): a valid one is switched with the right accept value, subprotocol
 * and path; every invalid one is refused with 426 (and {@code Upgrade: websocket}, and
 * {@code Sec-WebSocket-Version: 13} for a version mismatch), 400 or 403, never switched: the connection
 * stays HTTP and answers the request pipelined behind the refused one.
 */
class HandshakeTest extends WebSocketTestBase {

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/plain", req -> Response.text("plain"))
                .websocket("/ws", recorder)
                .websocket("/chat", WebSocketOptions.builder().subprotocols("chat.v2", "chat").build(), recorder)
                .websocket("/strict", WebSocketOptions.builder().allowedOrigins("https://good.example").build(), recorder)
                .websocket("/picky", new Recorder() {
                    @Override
                    public boolean accept(Request handshake) {
                        return "yes".equals(handshake.message().headers().get("X-Token"));
                    }
                })
                .websocket("/rooms/{room}", recorder)
                .build());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void validHandshakeIsSwitched(Execution mode) throws Exception {
        start(mode);
        RawWs ws = raw();
        assertNull(ws.handshake.header("sec-websocket-protocol"), "no subprotocol was asked for");
        assertNull(ws.handshake.header("sec-websocket-extensions"), "compression is off by default");
        WebSocket socket = recorder.awaitOpen();
        assertNull(socket.subprotocol());
        assertEquals("/ws", socket.uri());
        ws.send(RawWs.text("hi"));
        assertEquals("hi", ws.readText());
        assertEquals(RawWs.SAMPLE_ACCEPT, RawWs.accept(RawWs.SAMPLE_KEY), "the test's own accept computation");
    }

    /** Field values are compared as tokens, case-insensitively, within comma-separated lists. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void handshakeFieldsAreReadAsTokenLists(Execution mode) {
        start(mode);
        RawWs ws = track(RawWs.connect(server, 0));
        ws.send(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
                + "Sec-WebSocket-Key:  " + RawWs.SAMPLE_KEY + " \r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        ws.expectSwitch();
        recorder.awaitOpen();
    }

    /** Frames the client sends right behind its handshake, before the 101, reach the socket. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void framesBehindTheHandshakeAreKept(Execution mode) {
        start(mode);
        RawWs ws = track(RawWs.connect(server, 0));
        ws.send(HttpTestSupport.get("/plain").getBytes(StandardCharsets.US_ASCII), RawWs.handshake("/ws"),
                RawWs.text("early"), RawWs.frame(RawWs.PING, new byte[]{9}));
        RawWs.Head plain = ws.readHead();
        assertEquals(200, plain.status());
        assertEquals("plain", ws.readBody(plain));
        ws.expectSwitch();
        assertEquals("early", ws.readText());
        RawWs.Frame pong = ws.read();
        assertEquals(RawWs.PONG, pong.opcode());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void subprotocolIsTheServersFirstChoiceAmongTheOffered(Execution mode) {
        start(mode);
        RawWs both = track(RawWs.open(server, "/chat", "Sec-WebSocket-Protocol: other, chat", "Sec-WebSocket-Protocol: chat.v2"));
        assertEquals("chat.v2", both.handshake.header("sec-websocket-protocol"));
        assertEquals("chat.v2", recorder.awaitOpen().subprotocol());
        RawWs others = track(RawWs.open(server, "/chat", "Sec-WebSocket-Protocol: mqtt"));
        assertNull(others.handshake.header("sec-websocket-protocol"), "none agreed; the client may close");
        assertNull(recorder.awaitOpen().subprotocol());
        NettyWsClient netty = track(NettyWsClient.connect(server, "/chat", new NettyWsClient.Options().subprotocols("chat")));
        assertEquals("chat", netty.subprotocol());
        assertEquals("chat", recorder.awaitOpen().subprotocol());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void pathParametersAndTargetReachTheSocket(Execution mode) {
        start(mode);
        track(RawWs.open(server, "/rooms/kitchen?since=5"));
        WebSocket socket = recorder.awaitOpen();
        assertEquals("kitchen", socket.pathParam("room"));
        assertEquals("/rooms/kitchen?since=5", socket.uri());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void allowedOriginAndAcceptedRequestAreSwitched(Execution mode) {
        start(mode);
        track(RawWs.open(server, "/strict", "Origin: https://good.example"));
        recorder.awaitOpen();
        track(NettyWsClient.connect(server, "/picky", new NettyWsClient.Options().header("X-Token", "yes")));
    }

    /** A refused handshake: the request, and what the answer must be. */
    record Refusal(String name, String request, int status, String header, String value) {
        @Override
        public String toString() {
            return name + " -> " + status;
        }
    }

    private static final String KEY = "Sec-WebSocket-Key: " + RawWs.SAMPLE_KEY + "\r\n";
    private static final String VERSION = "Sec-WebSocket-Version: 13\r\n";
    private static final String UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

    private static String get(String path, String fields) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
    }

    static List<Refusal> refusals() {
        return List.of(
                new Refusal("plain GET", get("/ws", ""), 426, "upgrade", "websocket"),
                new Refusal("upgrade to h2c", get("/ws", "Upgrade: h2c\r\nConnection: Upgrade\r\n" + KEY + VERSION),
                        426, "upgrade", "websocket"),
                new Refusal("version 8", get("/ws", UPGRADE + KEY + "Sec-WebSocket-Version: 8\r\n"),
                        426, "sec-websocket-version", "13"),
                new Refusal("no version", get("/ws", UPGRADE + KEY), 426, "sec-websocket-version", "13"),
                new Refusal("two versions", get("/ws", UPGRADE + KEY + VERSION + "Sec-WebSocket-Version: 8\r\n"),
                        426, "sec-websocket-version", "13"),
                new Refusal("no key", get("/ws", UPGRADE + VERSION), 400, null, null),
                new Refusal("two keys", get("/ws", UPGRADE + KEY + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n" + VERSION),
                        400, null, null),
                new Refusal("two keys in one field", get("/ws", UPGRADE + "Sec-WebSocket-Key: " + RawWs.SAMPLE_KEY
                        + ", AAAAAAAAAAAAAAAAAAAAAA==\r\n" + VERSION), 400, null, null),
                new Refusal("15-byte key", get("/ws", UPGRADE + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n" + VERSION),
                        400, null, null),
                new Refusal("17-byte key", get("/ws", UPGRADE + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n" + VERSION),
                        400, null, null),
                new Refusal("key not base64", get("/ws", UPGRADE + "Sec-WebSocket-Key: ????????????????????????\r\n" + VERSION),
                        400, null, null),
                new Refusal("no Connection: Upgrade", get("/ws", "Upgrade: websocket\r\nConnection: keep-alive\r\n" + KEY + VERSION),
                        400, null, null),
                new Refusal("no Connection field", get("/ws", "Upgrade: websocket\r\n" + KEY + VERSION), 400, null, null),
                new Refusal("a body", "GET /ws HTTP/1.1\r\nHost: x\r\n" + UPGRADE + KEY + VERSION
                        + "Content-Length: 5\r\n\r\nhello", 400, null, null),
                new Refusal("POST", "POST /ws HTTP/1.1\r\nHost: x\r\n" + UPGRADE + KEY + VERSION + "Content-Length: 0\r\n\r\n",
                        405, "allow", "GET"),
                new Refusal("origin not allowed", get("/strict", UPGRADE + KEY + VERSION + "Origin: https://evil.example\r\n"),
                        403, null, null),
                new Refusal("no origin where one is required", get("/strict", UPGRADE + KEY + VERSION), 403, null, null),
                new Refusal("refused by the handler", get("/picky", UPGRADE + KEY + VERSION + "X-Token: no\r\n"), 403, null, null),
                new Refusal("no such endpoint", get("/nowhere", UPGRADE + KEY + VERSION), 404, null, null));
    }

    static Stream<Arguments> refusalCases() {
        return Stream.of(Execution.values()).flatMap(m -> refusals().stream().map(r -> Arguments.of(m, r)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("refusalCases")
    void badHandshakeIsRefusedAndTheConnectionStaysHttp(Execution mode, Refusal r) {
        start(mode);
        RawWs ws = track(RawWs.connect(server, 0));
        // A frame-like byte sequence after the pipelined GET must never be read as WebSocket either.
        ws.send(r.request().getBytes(StandardCharsets.US_ASCII), HttpTestSupport.get("/plain").getBytes(StandardCharsets.US_ASCII));
        RawWs.Head refused = ws.readHead();
        assertEquals(r.status(), refused.status(), "status of " + r.name() + ": " + refused.headers());
        assertNull(refused.header("sec-websocket-accept"), "a refusal carries no accept value");
        if (r.header() != null) {
            assertTrue(refused.header(r.header()) != null && refused.header(r.header()).contains(r.value()),
                    r.header() + " of " + refused.headers());
        }
        if (r.status() == 426) {
            // RFC 9110 15.5.22: a 426 names the protocol to upgrade to; 7.8: and then Connection lists "upgrade".
            assertEquals("websocket", refused.header("upgrade"), "a 426 names the protocol: " + refused.headers());
            assertTrue(refused.header("connection") != null
                            && refused.header("connection").toLowerCase(Locale.ROOT).contains("upgrade"),
                    "a 426 names Upgrade in Connection: " + refused.headers());
        }
        String body = ws.readBody(refused);
        assertTrue(refused.header("content-type").startsWith("text/"), "content type " + refused.header("content-type"));
        if (r.status() != 404 && r.status() != 405) {
            assertTrue(body.startsWith(r.status() + " ") && body.length() > 20, "the route's refusal says why: " + body);
        }
        RawWs.Head plain = ws.readHead();
        assertEquals(200, plain.status(), "the request behind the refused handshake is answered as HTTP");
        assertEquals("plain", ws.readBody(plain));
        assertEquals(0, server.count("websocket"), "no socket was opened");
    }

    /**
     * The router hands a GET route HEAD requests too: a HEAD with every handshake field is refused (400,
     * without a body, as HEAD answers are), never switched, and the connection stays HTTP.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void headHandshakeIsRefused(Execution mode) {
        start(mode);
        RawWs ws = track(RawWs.connect(server, 0));
        ws.send(("HEAD /ws HTTP/1.1\r\nHost: x\r\n" + UPGRADE + KEY + VERSION + "\r\n"
                + HttpTestSupport.get("/plain")).getBytes(StandardCharsets.US_ASCII));
        RawWs.Head refused = ws.readHead();
        assertEquals(400, refused.status(), refused.headers().toString());
        assertNull(refused.header("sec-websocket-accept"));
        RawWs.Head plain = ws.readHead();
        assertEquals(200, plain.status(), "no body after the HEAD answer; the next request is answered");
        assertEquals("plain", ws.readBody(plain));
        assertEquals(0, server.count("websocket"));
    }

    /** HTTP/1.0 has no Upgrade mechanism: 400, and the connection ends as an HTTP/1.0 one does. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void http10HandshakeIsRefused(Execution mode) {
        start(mode);
        RawWs ws = track(RawWs.connect(server, 0));
        ws.send(("GET /ws HTTP/1.0\r\nHost: x\r\n" + UPGRADE + KEY + VERSION + "\r\n").getBytes(StandardCharsets.US_ASCII));
        RawWs.Head refused = ws.readHead();
        assertEquals(400, refused.status());
        ws.readBody(refused);
        ws.expectEof();
        assertEquals(0, server.count("websocket"));
    }
}
