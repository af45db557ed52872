package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.Deflater;

import static dev.serverframework.http.websocket.RawWs.BINARY;
import static dev.serverframework.http.websocket.RawWs.CONTINUATION;
import static dev.serverframework.http.websocket.RawWs.PING;
import static dev.serverframework.http.websocket.RawWs.TEXT;
import static dev.serverframework.http.websocket.RawWs.frame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * permessage-deflate (RFC 7692): agreed when offered on a route that allows it, never otherwise; messages
 * inflated and deflated both ways, with context takeover; and the inflated size held to the largest
 * message, so that a few kilobytes of deflated zeros are refused with 1009 before they become megabytes,
 * and the server goes on serving.
 */
class CompressionTest extends WebSocketTestBase {
    private static final int MAX = 64 * 1024;
    private static final String OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits";

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .websocket("/ws", WebSocketOptions.builder().compression(true).maxMessageSize(MAX).build(), recorder)
                .websocket("/plain-ws", WebSocketOptions.builder().maxMessageSize(MAX).build(), recorder)
                .build());
    }

    private NettyWsClient deflating(String path) {
        return track(NettyWsClient.connect(server, path, new NettyWsClient.Options().compression(true)));
    }

    private RawWs rawDeflating() {
        RawWs ws = track(RawWs.open(server, "/ws", OFFER));
        assertTrue(ws.compressed, "permessage-deflate agreed: " + ws.handshake.headers());
        return ws;
    }

    /** Deflates parts of one message with one deflater: each part ends in a sync flush, the last loses its tail. */
    private static byte[][] deflateParts(byte[]... parts) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        byte[][] out = new byte[parts.length][];
        byte[] buf = new byte[8192];
        for (int i = 0; i < parts.length; i++) {
            d.setInput(parts[i]);
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            int n;
            do {
                n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
                o.write(buf, 0, n);
            } while (n == buf.length || !d.needsInput());
            out[i] = o.toByteArray();
        }
        d.end();
        byte[] last = out[parts.length - 1];
        out[parts.length - 1] = Arrays.copyOf(last, last.length - 4);
        return out;
    }

    private static String repeatedText(int bytes) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            sb.append("the quick brown fox jumps over the lazy dog ").append(sb.length()).append(' ');
        }
        return sb.substring(0, bytes);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void nettyClientNegotiatesDeflateAndMessagesRoundTripCompressed(Execution mode) {
        start(mode);
        NettyWsClient c = deflating("/ws");
        assertTrue(c.handshakeHeaders().get("sec-websocket-extensions").startsWith("permessage-deflate"));
        WebSocket socket = recorder.awaitOpen();
        assertTrue(socket.isCompressed());
        for (int i = 0; i < 3; i++) {
            String text = repeatedText(20_000) + i;
            c.sendText(text);
            NettyWsClient.Received echo = c.nextData();
            assertEquals(text, echo.text());
            assertEquals(4, echo.wireRsv(), "the server's message was compressed (RSV1)");
        }
        c.assertNoErrors();
    }

    /**
     * Hand-deflated frames, one shared context for the whole connection each way: compressed, uncompressed
     * and fragmented compressed messages are all delivered, and the answers inflate.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void rawDeflatedMessagesAreInflatedAndAnswersInflate(Execution mode) {
        start(mode);
        RawWs ws = rawDeflating();
        String ext = ws.handshake.header("sec-websocket-extensions");
        assertFalse(ext.contains("server_no_context_takeover"), ext);
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        for (String text : new String[]{"Hello, hello, hello!", "Hello, hello, hello, again!", "ümlaut €"}) {
            ws.send(frame(true, 4, TEXT, syncFlush(d, text.getBytes(StandardCharsets.UTF_8))));
            RawWs.Frame echo = ws.readData();
            assertEquals(4, echo.rsv(), "compressed answer");
            assertEquals(text, echo.text());
        }
        d.end();
        ws.send(RawWs.text("not compressed"));
        assertEquals("not compressed", ws.readText());
        byte[][] parts = deflateParts("fragmented ".getBytes(StandardCharsets.UTF_8), "and compressed".getBytes(StandardCharsets.UTF_8));
        ws.send(frame(false, 4, TEXT, parts[0]), frame(PING, new byte[0]), frame(true, 0, CONTINUATION, parts[1]));
        assertEquals(RawWs.PONG, ws.read().opcode());
        assertEquals("fragmented and compressed", ws.readText());
    }

    /**
     * A sender may end each message's deflate stream with a final block (RFC 7692 7.2.3.3, for zlibs that
     * cannot sync-flush); the next message then starts a new stream.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void messagesEndedWithAFinalBlockStartANewStream(Execution mode) {
        start(mode);
        RawWs ws = rawDeflating();
        for (String text : new String[]{"first stream", "second stream", "third stream"}) {
            Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
            d.setInput(text.getBytes(StandardCharsets.UTF_8));
            d.finish();
            byte[] buf = new byte[1024];
            int n = d.deflate(buf);
            d.end();
            ws.send(frame(true, 4, TEXT, Arrays.copyOf(buf, n)));
            assertEquals(text, ws.readText());
        }
        // A final empty block alone: an empty message.
        ws.send(frame(true, 4, TEXT, new byte[]{0x03, 0x00}));
        assertEquals("", ws.readText());
        ws.send(frame(true, 4, TEXT, RawWs.deflate("after the empty one".getBytes(StandardCharsets.UTF_8))));
        assertEquals("after the empty one", ws.readText());
    }

    /** A sync-flushed message of a shared deflater, its tail removed. */
    private static byte[] syncFlush(Deflater d, byte[] data) {
        d.setInput(data);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        do {
            n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
            o.write(buf, 0, n);
        } while (n == buf.length || !d.needsInput());
        byte[] all = o.toByteArray();
        return Arrays.copyOf(all, all.length - 4);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void notAgreedWhereTheRouteDoesNotCompressOrTheClientDoesNotOffer(Execution mode) {
        start(mode);
        RawWs off = track(RawWs.open(server, "/plain-ws", OFFER));
        assertNull(off.handshake.header("sec-websocket-extensions"));
        assertFalse(recorder.awaitOpen().isCompressed());
        RawWs notOffered = track(RawWs.open(server, "/ws"));
        assertNull(notOffered.handshake.header("sec-websocket-extensions"));
        WebSocket socket = recorder.awaitOpen();
        assertFalse(socket.isCompressed());
        NettyWsClient netty = deflating("/plain-ws");
        assertNull(netty.handshakeHeaders().get("sec-websocket-extensions"));
        assertEquals("plain", netty.echo("plain"));
        recorder.awaitOpen();
        // Without the extension, RSV1 means nothing: a protocol error.
        notOffered.send(frame(true, 4, TEXT, RawWs.deflate("x".getBytes(StandardCharsets.UTF_8))));
        notOffered.expectCloseAndEof(1002);
        notOffered.close();
        recorder.awaitClose(socket, 1002);
    }

    /** Offers the server cannot take are declined one by one; the first it can take is agreed. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void offersAreDeclinedOrAgreedOneByOne(Execution mode) {
        start(mode);
        RawWs declined = track(RawWs.open(server, "/ws",
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, x-unknown",
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=abc"));
        assertNull(declined.handshake.header("sec-websocket-extensions"), "declined offers: switched, uncompressed");
        assertFalse(recorder.awaitOpen().isCompressed());
        RawWs second = track(RawWs.open(server, "/ws",
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate"));
        assertTrue(second.compressed, "the second offer is agreed: " + second.handshake.headers());
        assertTrue(recorder.awaitOpen().isCompressed());
        second.send(frame(true, 4, TEXT, RawWs.deflate("ok".getBytes(StandardCharsets.UTF_8))));
        assertEquals("ok", second.readText());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void compressedMessageOfExactlyTheLargestSizeIsDelivered(Execution mode) {
        start(mode);
        RawWs ws = rawDeflating();
        byte[] max = new byte[MAX];
        Arrays.fill(max, (byte) 'z');
        ws.send(frame(true, 4, BINARY, RawWs.deflate(max)));
        RawWs.Frame echo = ws.readData();
        assertEquals(BINARY, echo.opcode());
        assertArrayEquals(max, echo.payload());
        byte[] over = new byte[MAX + 1];
        WebSocket socket = recorder.awaitOpen();
        ws.send(frame(true, 4, BINARY, RawWs.deflate(over)));
        ws.expectCloseAndEof(1009);
        ws.close();
        recorder.awaitClose(socket, 1009);
    }

    /**
     * 10 MiB of zeros deflate to about 10 KB, well under the frame limit: the inflater must stop at the
     * largest message instead of producing them (the close reason says the inflater stopped it, not the
     * aggregator after it), and the server serves the next client.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void deflateBombIsRefusedWith1009WhileInflating(Execution mode) {
        start(mode);
        NettyWsClient bystander = deflating("/ws");
        recorder.awaitOpen();
        RawWs ws = rawDeflating();
        WebSocket socket = recorder.awaitOpen();
        byte[] bomb = RawWs.deflate(new byte[10 << 20]);
        assertTrue(bomb.length < 20_000, "bomb of " + bomb.length + " bytes");
        ws.send(frame(true, 4, BINARY, bomb));
        RawWs.Frame close = ws.expectCloseAndEof(1009);
        assertTrue(close.closeReason().contains("inflat"), "stopped while inflating: " + close.closeReason());
        ws.close();
        recorder.awaitClose(socket, 1009);
        assertStillServed(bystander);
        NettyWsClient next = deflating("/ws");
        assertEquals("next", next.echo("next"));
    }

    /** The same bomb sent by Netty's client, whose deflater compresses the 10 MiB message itself. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void deflateBombFromNettysClientIsRefusedWith1009(Execution mode) {
        start(mode);
        NettyWsClient bystander = deflating("/ws");
        recorder.awaitOpen();
        NettyWsClient c = deflating("/ws");
        WebSocket socket = recorder.awaitOpen();
        c.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[10 << 20])));
        c.expectCloseAndEnd(1009);
        recorder.awaitClose(socket, 1009);
        assertStillServed(bystander);
    }

    /** Fragments each within the limit whose inflated sum is not: 1009 from the reassembly. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void compressedFragmentsOverTheLimitTogetherAre1009(Execution mode) {
        start(mode);
        RawWs ws = rawDeflating();
        WebSocket socket = recorder.awaitOpen();
        byte[][] parts = deflateParts(new byte[40 * 1024], new byte[40 * 1024]);
        ws.send(frame(false, 4, BINARY, parts[0]), frame(true, 0, CONTINUATION, parts[1]));
        ws.expectCloseAndEof(1009);
        ws.close();
        recorder.awaitClose(socket, 1009);
    }

    /** RSV1 belongs on the first frame of a data message only (RFC 7692 6.1); RSV2 and RSV3 mean nothing. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void reservedBitsTheExtensionDoesNotDefineAre1002(Execution mode) {
        start(mode);
        byte[][] parts = deflateParts("a".getBytes(StandardCharsets.UTF_8), "b".getBytes(StandardCharsets.UTF_8));
        byte[][] cases = {
                frame(true, 4, PING, new byte[0]),
                frame(true, 2, TEXT, "x".getBytes(StandardCharsets.UTF_8)),
                frame(true, 6, TEXT, RawWs.deflate("x".getBytes(StandardCharsets.UTF_8))),
                RawWs.concat(frame(false, 4, TEXT, parts[0]), frame(true, 4, CONTINUATION, parts[1])),
                RawWs.concat(frame(false, 0, TEXT, "a".getBytes(StandardCharsets.UTF_8)),
                        frame(true, 4, CONTINUATION, RawWs.deflate("b".getBytes(StandardCharsets.UTF_8)))),
        };
        for (byte[] bad : cases) {
            RawWs ws = rawDeflating();
            WebSocket socket = recorder.awaitOpen();
            ws.send(bad);
            ws.expectCloseAndEof(1002);
            ws.close();
            recorder.awaitClose(socket, 1002);
        }
    }

    /** Data that does not inflate fails the connection with a close frame, not a silent cut. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void dataThatDoesNotInflateIsAnsweredWithACloseFrame(Execution mode) {
        start(mode);
        NettyWsClient bystander = deflating("/ws");
        recorder.awaitOpen();
        byte[][] cases = {
                // Block type 3, which deflate reserves.
                {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
                // A stored block whose length and its complement disagree.
                {0x00, 0x05, 0x00, 0x00, 0x00, 'a'},
        };
        for (byte[] bad : cases) {
            RawWs ws = rawDeflating();
            WebSocket socket = recorder.awaitOpen();
            ws.send(frame(true, 4, TEXT, bad));
            RawWs.Frame close = ws.readData();
            assertEquals(RawWs.CLOSE, close.opcode(), "expected a close frame, got " + close);
            assertTrue(close.closeCode() == 1007 || close.closeCode() == 1002, "close code " + close.closeCode());
            ws.expectEof();
            ws.close();
            recorder.awaitClose(socket, close.closeCode());
        }
        assertStillServed(bystander);
    }

    /**
     * Random bytes do not shrink: deflated, a message of the largest size makes a frame a little over it,
     * which must not be refused. An uncompressed frame over the largest size is, on a compressed connection
     * too.
     */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void incompressibleMessageOfTheLargestSizeIsDeliveredAndOneByteMoreIsNot(Execution mode) {
        start(mode);
        NettyWsClient c = deflating("/ws");
        WebSocket socket = recorder.awaitOpen();
        byte[] noise = new byte[MAX];
        new java.util.Random(7).nextBytes(noise);
        assertTrue(RawWs.deflate(noise).length > MAX, "deflate makes noise larger");
        c.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(noise)));
        assertArrayEquals(noise, c.nextBinary());
        c.sendRaw(frame(true, 0, BINARY, new byte[MAX + 1]));
        c.expectCloseAndEnd(1009);
        recorder.awaitClose(socket, 1009);
    }

    /** What Netty's deflating client sends fragmented (its encoder compresses each fragment) is reassembled. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void nettyClientsCompressedTextIsDelivered(Execution mode) {
        start(mode);
        NettyWsClient c = deflating("/ws");
        String text = repeatedText(MAX);
        c.send(new TextWebSocketFrame(text));
        assertEquals(text, c.nextText());
        c.assertNoErrors();
    }
}
