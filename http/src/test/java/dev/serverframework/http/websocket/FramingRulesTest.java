package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.serverframework.http.websocket.RawWs.BINARY;
import static dev.serverframework.http.websocket.RawWs.CLOSE;
import static dev.serverframework.http.websocket.RawWs.CONTINUATION;
import static dev.serverframework.http.websocket.RawWs.PING;
import static dev.serverframework.http.websocket.RawWs.PONG;
import static dev.serverframework.http.websocket.RawWs.TEXT;
import static dev.serverframework.http.websocket.RawWs.frame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * RFC 6455 framing as the server enforces it: fragments reassembled (with control frames between them) up
 * to the largest message, control frames answered, and every rule a client can break answered with the
 * right close code, in order after the frames before it, then the end of the TCP connection, one
 * {@code onClose} with that code, and the other connections untouched. Each rule runs with hand-built bytes
 * on a raw socket (strictly parsed answers), and, where Netty's client can build the frame, with Netty's
 * client; each in both execution modes.
 */
class FramingRulesTest extends WebSocketTestBase {
    private static final int MAX = 1024;

    private void start(Execution mode) {
        start(mode, WebSocketOptions.builder().maxMessageSize(MAX).build());
    }

    // ---- what is accepted ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void fragmentedTextIsReassembledWithAPingBetweenItsFragments(Execution mode) {
        start(mode);
        NettyWsClient c = netty();
        c.send(new TextWebSocketFrame(false, 0, "Hel"));
        c.send(new ContinuationWebSocketFrame(false, 0, Unpooled.copiedBuffer("lo, ", StandardCharsets.UTF_8)));
        c.send(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[]{1, 2, 3})));
        c.send(new ContinuationWebSocketFrame(false, 0, Unpooled.EMPTY_BUFFER));
        c.send(new ContinuationWebSocketFrame(true, 0, Unpooled.copiedBuffer("world", StandardCharsets.UTF_8)));
        NettyWsClient.Received pong = c.next();
        assertEquals(PONG, pong.opcode(), "the ping is answered first: " + pong);
        assertArrayEquals(new byte[]{1, 2, 3}, pong.payload(), "a pong carries the ping's payload");
        assertEquals("Hello, world", c.nextText());
        assertEquals("Hello, world", recorder.awaitText());
        c.assertNoErrors();
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void fragmentedBinaryIsReassembled(Execution mode) {
        start(mode);
        RawWs ws = raw();
        ws.send(frame(false, 0, BINARY, new byte[]{1, 2}), frame(false, 0, CONTINUATION, new byte[0]),
                frame(true, 0, CONTINUATION, new byte[]{3}));
        RawWs.Frame echo = ws.readData();
        assertEquals(BINARY, echo.opcode());
        assertArrayEquals(new byte[]{1, 2, 3}, echo.payload());
    }

    /** Every split of 2-, 3- and 4-byte characters between two fragments: the check must span frames. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void utf8SplitInsideACodePointAcrossFragmentsIsAccepted(Execution mode) {
        start(mode);
        NettyWsClient c = netty();
        for (String s : List.of("aé", "x€y", "😀!", "ü€😀")) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            for (int cut = 1; cut < b.length; cut++) {
                c.send(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(Arrays.copyOf(b, cut))));
                c.send(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(Arrays.copyOfRange(b, cut, b.length))));
                assertEquals(s, c.nextText(), "split after byte " + cut);
            }
        }
        // Three fragments, the middle one a lone continuation byte of a 4-byte character.
        byte[] smile = "😀".getBytes(StandardCharsets.UTF_8);
        c.send(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(Arrays.copyOf(smile, 2))));
        c.send(new ContinuationWebSocketFrame(false, 0, Unpooled.wrappedBuffer(new byte[]{smile[2]})));
        c.send(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[]{smile[3]})));
        assertEquals("😀", c.nextText());
        c.assertNoErrors();
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void pingIsAnsweredWithItsPayloadAndPongsAreAccepted(Execution mode) {
        start(mode);
        RawWs ws = raw();
        byte[] longest = new byte[125];
        Arrays.fill(longest, (byte) 'p');
        ws.send(frame(PONG, "unasked".getBytes(StandardCharsets.US_ASCII)), frame(PING, new byte[0]),
                frame(PING, longest), RawWs.text("after"));
        RawWs.Frame p1 = ws.read();
        assertEquals(PONG, p1.opcode());
        assertEquals(0, p1.payload().length);
        RawWs.Frame p2 = ws.read();
        assertEquals(PONG, p2.opcode());
        assertArrayEquals(longest, p2.payload());
        assertEquals("after", ws.readText(), "an unsolicited pong changes nothing");
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void messagesOfExactlyTheLargestSizeAndEmptyOnesAreDelivered(Execution mode) {
        start(mode);
        NettyWsClient c = netty();
        byte[] max = new byte[MAX];
        Arrays.fill(max, (byte) 7);
        c.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(max)));
        assertArrayEquals(max, c.nextBinary());
        c.send(new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(max, 0, MAX - 1)));
        c.send(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(max, MAX - 1, 1)));
        assertArrayEquals(max, c.nextBinary());
        assertEquals("", c.echo(""));
        c.send(new BinaryWebSocketFrame(Unpooled.EMPTY_BUFFER));
        assertEquals(0, c.nextBinary().length);
        c.assertNoErrors();
    }

    // ---- what is refused ----

    /**
     * A broken rule: the bytes a raw client sends, and the frames Netty's client sends for it where its
     * encoder can build them (null where it cannot: no mask, reserved opcodes, a ping over 125 bytes, bad
     * length encodings).
     */
    record Case(String name, int code, byte[] raw, Supplier<List<WebSocketFrame>> netty) {
        @Override
        public String toString() {
            return name + " -> " + code;
        }
    }

    private static byte[] bytes(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] u(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    private static Supplier<List<WebSocketFrame>> frames(Supplier<List<WebSocketFrame>> s) {
        return s;
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("unmasked text frame", 1002, frame(0x81, false, ascii("hi")), null));
        for (int rsv = 1; rsv <= 7; rsv++) {
            int r = rsv;
            cases.add(new Case("text with RSV bits " + rsv + " and no extension", 1002, frame(true, rsv, TEXT, ascii("hi")),
                    frames(() -> List.of(new TextWebSocketFrame(true, r, "hi")))));
        }
        cases.add(new Case("ping with RSV1", 1002, frame(true, 4, PING, ascii("p")),
                frames(() -> List.of(new PingWebSocketFrame(true, 4, Unpooled.wrappedBuffer(ascii("p")))))));
        for (int op : new int[]{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
            cases.add(new Case("reserved opcode " + op, 1002, frame(op, ascii("x")), null));
        }
        cases.add(new Case("ping of 126 bytes", 1002, frame(PING, bytes(126, 'p')), null));
        cases.add(new Case("pong of 126 bytes", 1002, frame(PONG, bytes(126, 'p')),
                frames(() -> List.of(new PongWebSocketFrame(Unpooled.wrappedBuffer(bytes(126, 'p')))))));
        cases.add(new Case("close of 126 bytes", 1002, frame(CLOSE, RawWs.closeBody(1000, bytes(124, 'r'))),
                frames(() -> List.of(new CloseWebSocketFrame(true, 0,
                        Unpooled.wrappedBuffer(RawWs.closeBody(1000, bytes(124, 'r'))))))));
        cases.add(new Case("fragmented ping", 1002, RawWs.concat(frame(false, 0, PING, ascii("a")),
                frame(true, 0, CONTINUATION, ascii("b"))),
                frames(() -> List.of(new PingWebSocketFrame(false, 0, Unpooled.wrappedBuffer(ascii("a"))),
                        new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(ascii("b")))))));
        cases.add(new Case("fragmented close", 1002, frame(false, 0, CLOSE, RawWs.closeBody(1000, new byte[0])),
                frames(() -> List.of(new CloseWebSocketFrame(false, 0,
                        Unpooled.wrappedBuffer(RawWs.closeBody(1000, new byte[0])))))));
        cases.add(new Case("continuation without a message", 1002, frame(true, 0, CONTINUATION, ascii("x")),
                frames(() -> List.of(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(ascii("x")))))));
        cases.add(new Case("text inside a fragmented text", 1002, RawWs.concat(frame(false, 0, TEXT, ascii("a")),
                frame(true, 0, TEXT, ascii("b"))),
                frames(() -> List.of(new TextWebSocketFrame(false, 0, "a"), new TextWebSocketFrame(true, 0, "b")))));
        cases.add(new Case("binary inside a fragmented text", 1002, RawWs.concat(frame(false, 0, TEXT, ascii("a")),
                frame(true, 0, BINARY, ascii("b"))),
                frames(() -> List.of(new TextWebSocketFrame(false, 0, "a"),
                        new BinaryWebSocketFrame(true, 0, Unpooled.wrappedBuffer(ascii("b")))))));
        cases.add(new Case("16-bit length not in its shortest form", 1002,
                RawWs.concat(u(0x81, 0x80 | 126, 0, 5, 1, 2, 3, 4), ascii("hello")), null));
        cases.add(new Case("64-bit length with its top bit set", 1002,
                u(0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4), null));
        cases.add(new Case("frame over the largest message", 1009, frame(BINARY, bytes(MAX + 1, 1)),
                frames(() -> List.of(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes(MAX + 1, 1)))))));
        cases.add(new Case("frame header announcing 1 TiB", 1009,
                u(0x82, 0x80 | 127, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4), null));
        cases.add(new Case("fragments over the largest message", 1009,
                RawWs.concat(frame(false, 0, TEXT, bytes(MAX / 2 + 1, 'a')), frame(true, 0, CONTINUATION, bytes(MAX / 2, 'b'))),
                frames(() -> List.of(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(bytes(MAX / 2 + 1, 'a'))),
                        new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(bytes(MAX / 2, 'b')))))));
        // UTF-8 (RFC 3629): the check is made on every fragment as it comes, so a bad first fragment is refused
        // before the message ends, and a character cut off by the end of the message is refused too.
        List<Object[]> utf8 = List.of(
                new Object[]{"not UTF-8", u('a', 0xC3, 0x28)},
                new Object[]{"overlong slash", u(0xC0, 0xAF)},
                new Object[]{"UTF-16 surrogate", u(0xED, 0xA0, 0x80)},
                new Object[]{"above U+10FFFF", u(0xF4, 0x90, 0x80, 0x80)},
                new Object[]{"lone continuation byte", u(0x80)},
                new Object[]{"0xFF", u('o', 'k', 0xFF)});
        for (Object[] bad : utf8) {
            byte[] b = (byte[]) bad[1];
            cases.add(new Case("text " + bad[0], 1007, frame(TEXT, b),
                    frames(() -> List.of(new TextWebSocketFrame(true, 0, Unpooled.wrappedBuffer(b))))));
        }
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
        cases.add(new Case("code point split across fragments and broken in the second", 1007,
                RawWs.concat(frame(false, 0, TEXT, u('a', euro[0], euro[1])), frame(true, 0, CONTINUATION, u('(', 'b'))),
                frames(() -> List.of(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(u('a', euro[0], euro[1]))),
                        new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(u('(', 'b')))))));
        cases.add(new Case("message ending inside a code point", 1007,
                RawWs.concat(frame(false, 0, TEXT, u('a', euro[0])), frame(true, 0, CONTINUATION, u(euro[1]))),
                frames(() -> List.of(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(u('a', euro[0]))),
                        new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(u(euro[1])))))));
        cases.add(new Case("bad UTF-8 in a first fragment, message never finished", 1007,
                frame(false, 0, TEXT, u('a', 0xFF)),
                frames(() -> List.of(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(u('a', 0xFF)))))));
        cases.add(new Case("close with a 1-byte body", 1002, frame(CLOSE, u(3)),
                frames(() -> List.of(new CloseWebSocketFrame(true, 0, Unpooled.wrappedBuffer(u(3)))))));
        for (int code : new int[]{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 40000, 65535}) {
            cases.add(new Case("close code " + code, 1002, RawWs.close(code, "bad"),
                    frames(() -> List.of(new CloseWebSocketFrame(true, 0,
                            Unpooled.wrappedBuffer(RawWs.closeBody(code, ascii("bad"))))))));
        }
        cases.add(new Case("close reason not UTF-8", 1007, frame(CLOSE, RawWs.closeBody(1000, u(0xC3, 0x28))),
                frames(() -> List.of(new CloseWebSocketFrame(true, 0,
                        Unpooled.wrappedBuffer(RawWs.closeBody(1000, u(0xC3, 0x28))))))));
        return cases;
    }

    static Stream<Arguments> rawCases() {
        return Stream.of(Execution.values()).flatMap(m -> cases().stream().map(c -> Arguments.of(m, c)));
    }

    static Stream<Arguments> nettyCases() {
        return Stream.of(Execution.values())
                .flatMap(m -> cases().stream().filter(c -> c.netty() != null).map(c -> Arguments.of(m, c)));
    }

    /**
     * A raw client sends a valid message, the broken frame(s) and another valid message in one write: the
     * first is answered, then the close frame comes with the rule's code, then the end of stream; the
     * message behind the violation never reaches the handler.
     */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("rawCases")
    void rawClientBreakingARuleIsClosedWithItsCode(Execution mode, Case c) {
        start(mode);
        NettyWsClient bystander = netty();
        recorder.awaitOpen();
        RawWs ws = raw();
        WebSocket socket = recorder.awaitOpen();
        ws.send(RawWs.text("before"), c.raw(), RawWs.text("after"));
        assertEquals("before", ws.readText());
        RawWs.Frame close = ws.expectCloseAndEof(c.code());
        assertFalse(close.closeReason().isEmpty(), "a violation's close says why");
        ws.close();
        Recorder.Closed closed = recorder.awaitClose(socket, c.code());
        assertEquals(close.closeReason(), closed.reason());
        assertEquals("before", recorder.awaitText());
        assertNull(recorder.texts.poll(), "nothing behind the violation is delivered");
        assertStillServed(bystander);
    }

    /**
     * Every broken rule again, each followed by a burst of garbage and a reset before the answer is read:
     * the server answers or drops each, goes on serving, and logs nothing at WARN or above (peers' faults
     * are counted and logged quietly, never with a stack trace). The log is read where slf4j-simple writes
     * it, {@code System.err}, which it looks up on every line.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void misbehavingPeersLeaveNoWarningInTheLog(Execution mode) {
        start(mode);
        NettyWsClient bystander = netty();
        recorder.awaitOpen();
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public synchronized void write(int b) {
                captured.write(b);
                original.write(b);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                captured.write(b, off, len);
                original.write(b, off, len);
            }
        }, true));
        try {
            byte[] garbage = new byte[4096];
            new java.util.Random(1).nextBytes(garbage);
            for (Case c : cases()) {
                RawWs ws = raw();
                WebSocket socket = recorder.awaitOpen();
                ws.send(c.raw(), garbage);
                try {
                    ws.socket().setSoLinger(true, 0);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                ws.close();
                recorder.awaitClose(socket);
            }
            assertStillServed(bystander);
        } finally {
            System.setErr(original);
        }
        String log;
        synchronized (captured) {
            log = captured.toString(StandardCharsets.UTF_8);
        }
        assertFalse(log.contains("WARN") || log.contains("ERROR") || log.contains("Exception"), "logged:\n" + log);
    }

    /** Netty's own encoder told not to mask, as a client must: 1002. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void nettyClientSendingUnmaskedFramesIsClosedWith1002(Execution mode) {
        start(mode);
        NettyWsClient bystander = netty();
        recorder.awaitOpen();
        NettyWsClient client = netty();
        WebSocket socket = recorder.awaitOpen();
        assertEquals("masked", client.echo("masked"));
        client.unmasked().sendText("unmasked");
        client.expectCloseAndEnd(1002);
        recorder.awaitClose(socket, 1002);
        assertEquals("masked", recorder.awaitText());
        assertNull(recorder.texts.poll(), "the unmasked message was not delivered");
        assertStillServed(bystander);
    }

    /** The same rules broken with frames that Netty's client encodes (and masks). */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("nettyCases")
    void nettyClientBreakingARuleIsClosedWithItsCode(Execution mode, Case c) {
        start(mode);
        NettyWsClient bystander = netty();
        recorder.awaitOpen();
        NettyWsClient client = netty();
        WebSocket socket = recorder.awaitOpen();
        assertEquals("before", client.echo("before"));
        client.sendAllNoWait(c.netty().get());
        client.expectCloseAndEnd(c.code());
        recorder.awaitClose(socket, c.code());
        assertStillServed(bystander);
    }
}
