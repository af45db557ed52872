package dev.serverframework.http.internal;

import dev.serverframework.http.internal.RequestDecoder.BadRequestException;
import dev.serverframework.http.internal.RequestDecoder.ExpectationFailedException;
import dev.serverframework.http.internal.RequestDecoder.HeaderTimeoutException;
import dev.serverframework.http.internal.RequestDecoder.Limits;
import dev.serverframework.http.internal.RequestDecoder.UnsupportedTransferCodingException;
import dev.serverframework.http.internal.RequestDecoder.UnsupportedVersionException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request decoder on an {@link EmbeddedChannel}: what it passes on for valid requests (whole, split at
 * every byte, one byte at a time, pipelined), every rule that refuses a request and its status, each limit at
 * the limit and one over, 100-continue, the header timeout (on the channel's frozen clock, no sleeping), the
 * end of input, and that every buffer it takes or discards is released.
 */
class RequestDecoderTest {
    private static final int MAX_LINE = 100;
    private static final int MAX_HEADER = 200;
    private static final int MAX_BODY = 50;
    private static final long TIMEOUT_MS = 1000;
    private static final Limits LIMITS = new Limits(MAX_LINE, MAX_HEADER, MAX_BODY,
            TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));

    /** Each channel made, and its recorder (which a closed channel's pipeline no longer holds). */
    private final Map<EmbeddedChannel, Recorder> channels = new LinkedHashMap<>();

    @AfterEach
    void releaseEverything() {
        channels.forEach((ch, recorder) -> {
            ch.finishAndReleaseAll();
            recorder.releaseAll();
        });
    }

    /** What the decoder passed on, and the events after it; releases what it keeps. */
    private static final class Recorder extends ChannelDuplexHandler {
        final List<Object> reads = new ArrayList<>();
        final List<Throwable> errors = new ArrayList<>();
        int readCompletes;
        int inactive;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            reads.add(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes++;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            errors.add(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            inactive++;
        }

        List<FullHttpRequest> requests() {
            List<FullHttpRequest> out = new ArrayList<>();
            for (Object o : reads) {
                out.add((FullHttpRequest) o);
            }
            return out;
        }

        void releaseAll() {
            reads.forEach(ReferenceCountUtil::release);
            reads.clear();
        }
    }

    /** Counts read() requests that reach the start of the pipeline. */
    private static final class ReadCounter extends ChannelDuplexHandler {
        int reads;

        @Override
        public void read(ChannelHandlerContext ctx) {
            reads++;
            ctx.read();
        }
    }

    private EmbeddedChannel channel(RequestDecoder.ContinueSender sender) {
        return channel(new RequestDecoder(LIMITS, sender));
    }

    private EmbeddedChannel channel(RequestDecoder decoder) {
        Recorder recorder = new Recorder();
        EmbeddedChannel ch = new EmbeddedChannel(new ReadCounter(), decoder, recorder);
        ch.freezeTime();
        channels.put(ch, recorder);
        return ch;
    }

    private EmbeddedChannel channel() {
        return channel(RequestDecoder.ContinueSender.NOW);
    }

    private Recorder recorder(EmbeddedChannel ch) {
        return channels.get(ch);
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    /** Writes each piece as its own read batch. */
    private static void write(EmbeddedChannel ch, String... pieces) {
        for (String piece : pieces) {
            ch.writeInbound(bytes(piece));
        }
    }

    /** A request as passed on, with every part compared by value. */
    private record Decoded(String method, String uri, String version, List<String> headers, List<String> trailers,
                           String body, Class<?> failure) {
        static Decoded of(FullHttpRequest r) {
            Throwable cause = r.decoderResult().cause();
            return new Decoded(r.method().name(), r.uri(), r.protocolVersion().text(),
                    fields(r.headers().iteratorCharSequence()), fields(r.trailingHeaders().iteratorCharSequence()),
                    r.content().toString(StandardCharsets.ISO_8859_1),
                    cause == null ? null : cause.getClass());
        }

        private static List<String> fields(Iterator<Map.Entry<CharSequence, CharSequence>> it) {
            List<String> out = new ArrayList<>();
            it.forEachRemaining(e -> out.add(e.getKey() + ": " + e.getValue()));
            return out;
        }
    }

    private static Decoded ok(String method, String uri, String version, List<String> headers, String body) {
        return new Decoded(method, uri, version, headers, List.of(), body, null);
    }

    private List<Decoded> decodeInPieces(String... pieces) {
        EmbeddedChannel ch = channel(ctx -> { });
        write(ch, pieces);
        List<Decoded> out = recorder(ch).requests().stream().map(Decoded::of).toList();
        assertTrue(recorder(ch).errors.isEmpty(), recorder(ch).errors.toString());
        return out;
    }

    // ---- valid requests ----

    /** Valid requests, and what each must decode to. */
    static Stream<Arguments> validRequests() {
        return Stream.of(
                Arguments.of("GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                        ok("GET", "/", "HTTP/1.1", List.of("host: x"), "")),
                Arguments.of("\r\n\r\nGET /a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n"
                        + "X-Custom-Name: a\tb  c\r\nX-Empty:\r\nX-Spaces:   padded \t \r\n\r\n",
                        ok("GET", "/a?b=c", "HTTP/1.1", List.of("host: example.com", "user-agent: t", "accept: */*",
                                "X-Custom-Name: a\tb  c", "X-Empty: ", "X-Spaces: padded"), "")),
                Arguments.of("POST /echo HTTP/1.1\r\nHOST: x\r\ncontent-LENGTH: 5\r\n\r\nhello",
                        ok("POST", "/echo", "HTTP/1.1", List.of("host: x", "content-length: 5"), "hello")),
                Arguments.of("GET /old HTTP/1.0\r\n\r\n", ok("GET", "/old", "HTTP/1.0", List.of(), "")),
                Arguments.of("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                        ok("OPTIONS", "*", "HTTP/1.1", List.of("host: x"), "")),
                Arguments.of("PROPFIND http://x/a%20b HTTP/1.1\r\nHost: x\r\nX-Latin: caf\u00e9\r\n\r\n",
                        ok("PROPFIND", "http://x/a%20b", "HTTP/1.1", List.of("host: x", "X-Latin: caf\u00e9"), "")),
                Arguments.of("PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
                        + "5;name=value;flag ; q = \"quo\\\"ted\"\r\nhello\r\nA \r\n, world!!!\r\n0;last\r\n"
                        + "X-Checksum: abc\r\nContent-Length: 99\r\n\r\n",
                        new Decoded("PUT", "/c", "HTTP/1.1", List.of("host: x", "content-length: 15"),
                                List.of("X-Checksum: abc"), "hello, world!!!", null)),
                Arguments.of("POST /empty HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        ok("POST", "/empty", "HTTP/1.1", List.of("host: x", "content-length: 0"), "")),
                // Two requests back to back: both, in order.
                Arguments.of("DELETE /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                        + "HEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n", null));
    }

    @ParameterizedTest
    @MethodSource("validRequests")
    void aValidRequestDecodesTheSameWhetherWholeSplitAtAnyByteOrByteByByte(String request, Decoded expected) {
        List<Decoded> whole = decodeInPieces(request);
        if (expected != null) {
            assertEquals(List.of(expected), whole);
        } else {
            assertEquals(2, whole.size());
        }
        for (int k = 1; k < request.length(); k++) {
            assertEquals(whole, decodeInPieces(request.substring(0, k), request.substring(k)), "split at " + k);
        }
        String[] single = request.split("");
        assertEquals(whole, decodeInPieces(single), "one byte at a time");
    }

    @Test
    void pipelinedRequestsInOneReadAreAllPassedOnInOrderInThatRead() {
        EmbeddedChannel ch = channel();
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            burst.append(i % 2 == 0 ? "GET /" + i + " HTTP/1.1\r\nHost: x\r\n\r\n"
                    : "POST /" + i + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n" + i % 10 + "!");
        }
        burst.append("GET /partial HTTP/1.1\r\n");
        write(ch, burst.toString());
        List<FullHttpRequest> requests = recorder(ch).requests();
        assertEquals(20, requests.size());
        for (int i = 0; i < 20; i++) {
            assertEquals("/" + i, requests.get(i).uri());
            assertEquals(i % 2 == 0 ? "" : i % 10 + "!", requests.get(i).content().toString(StandardCharsets.US_ASCII));
        }
        assertEquals(1, recorder(ch).readCompletes);
    }

    @Test
    void knownNamesMethodsAndVersionsAreTheSharedConstants() {
        EmbeddedChannel ch = channel();
        write(ch, "GET / HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\nCONNECTION: keep-alive\r\nX-Own: b\r\n\r\n"
                + "POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
        FullHttpRequest get = recorder(ch).requests().get(0);
        assertSame(HttpMethod.GET, get.method());
        assertSame(HttpVersion.HTTP_1_1, get.protocolVersion());
        List<CharSequence> names = new ArrayList<>();
        get.headers().iteratorCharSequence().forEachRemaining(e -> names.add(e.getKey()));
        assertSame(HttpHeaderNames.HOST, names.get(0));
        assertSame(HttpHeaderNames.CONTENT_TYPE, names.get(1));
        assertSame(HttpHeaderNames.CONNECTION, names.get(2));
        assertEquals(new AsciiString("X-Own"), names.get(3));
        FullHttpRequest post = recorder(ch).requests().get(1);
        assertSame(HttpMethod.POST, post.method());
        assertSame(HttpVersion.HTTP_1_0, post.protocolVersion());
    }

    @Test
    void aBodyArrivingLaterGetsOneBufferOfExactlyItsLength() {
        EmbeddedChannel ch = channel();
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01", "234", "56789GET /next HTTP/1.1\r\n");
        FullHttpRequest r = recorder(ch).requests().get(0);
        assertEquals("0123456789", r.content().toString(StandardCharsets.US_ASCII));
        assertEquals(10, r.content().capacity());
        assertEquals(1, recorder(ch).reads.size(), "the next request is not complete yet");
    }

    @Test
    void aChunkedBodyHasNoTransferEncodingAndItsLengthSet() {
        EmbeddedChannel ch = channel();
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        FullHttpRequest r = recorder(ch).requests().get(0);
        assertNull(r.headers().get(HttpHeaderNames.TRANSFER_ENCODING));
        assertEquals("3", r.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals("y", r.headers().get("x"));
        assertTrue(r.trailingHeaders().isEmpty());
    }

    // ---- refusals ----

    /** Requests the decoder refuses, with the exception that says their status. */
    static Stream<Arguments> refusedRequests() {
        String host = "Host: x\r\n";
        return Stream.of(
                // Request line (400 unless said otherwise).
                Arguments.of("GET  / HTTP/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1 \r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of(" GET / HTTP/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET /\tx HTTP/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET /\u0001 HTTP/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET /\u007f HTTP/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("G(T / HTTP/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET /\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / \r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("THIS IS NOT HTTP AT ALL\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / http/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / HTTPS/1.1\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.10\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.x\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/2.0\r\n" + host + "\r\n", UnsupportedVersionException.class),
                Arguments.of("GET / HTTP/1.2\r\n" + host + "\r\n", UnsupportedVersionException.class),
                Arguments.of("GET / HTTP/3.0\r\n" + host + "\r\n", UnsupportedVersionException.class),
                Arguments.of("GET / HTTP/0.9\r\n\r\n", UnsupportedVersionException.class),
                // Line endings: CRLF only, as Netty's strict line parsing.
                Arguments.of("GET / HTTP/1.1\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\nHost: x\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\nHost: x\r\n\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", BadRequestException.class),
                // Field lines.
                Arguments.of("GET / HTTP/1.1\r\nHost : x\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "X: a\r\n b\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "X: a\r\n\tb\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n X: a\r\n" + host + "\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + ": empty name\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "No colon\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "X(y): z\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "X-\u00e9: z\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "X: a\u0000b\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "X: a\u001bb\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\n" + host + "X: a\u007fb\r\n\r\n", BadRequestException.class),
                // Host.
                Arguments.of("GET / HTTP/1.1\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\nX: y\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", BadRequestException.class),
                Arguments.of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", BadRequestException.class),
                // Framing.
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                        BadRequestException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                        BadRequestException.class),
                Arguments.of("POST / HTTP/1.0\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                        BadRequestException.class),
                Arguments.of(length("5, 5\r\n\r\nhello"), BadRequestException.class),
                Arguments.of(length("+5\r\n\r\nhello"), BadRequestException.class),
                Arguments.of(length("-1\r\n\r\n"), BadRequestException.class),
                Arguments.of(length("0x5\r\n\r\nhello"), BadRequestException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", BadRequestException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n",
                        BadRequestException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n0\r\n\r\n", BadRequestException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                        BadRequestException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n",
                        UnsupportedTransferCodingException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n",
                        UnsupportedTransferCodingException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n",
                        UnsupportedTransferCodingException.class),
                Arguments.of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        BadRequestException.class),
                // Chunks.
                Arguments.of(chunked("g\r\n"), BadRequestException.class),
                Arguments.of(chunked("\r\n"), BadRequestException.class),
                Arguments.of(chunked(" 5\r\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("-5\r\n"), BadRequestException.class),
                Arguments.of(chunked("100000000\r\n"), BadRequestException.class),
                Arguments.of(chunked("5\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5\r\nhelloX\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5\r\nhello\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5;\r\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5;=x\r\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5;a=\r\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5;a=\"open\r\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5;a b\r\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5 x\r\nhello\r\n0\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5\r\nhello\r\n0\r\nX: a\r\n folded\r\n\r\n"), BadRequestException.class),
                Arguments.of(chunked("5\r\nhello\r\n0\r\nX: y\n\r\n"), BadRequestException.class),
                // Expectations.
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Expect: something\r\nContent-Length: 5\r\n\r\n",
                        ExpectationFailedException.class),
                Arguments.of("POST / HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nExpect: 100-continue\r\n"
                        + "Content-Length: 5\r\n\r\n", ExpectationFailedException.class));
    }

    private static String length(String valueAndRest) {
        return "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + valueAndRest;
    }

    private static String chunked(String body) {
        return "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body;
    }

    @ParameterizedTest
    @MethodSource("refusedRequests")
    void aRefusedRequestIsPassedOnFailedAndNothingAfterIt(String request, Class<? extends Throwable> cause) {
        EmbeddedChannel ch = channel(ctx -> { });
        ByteBuf in = bytes(request + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
        ch.writeInbound(in);
        ByteBuf later = bytes("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
        ch.writeInbound(later);
        List<FullHttpRequest> out = recorder(ch).requests();
        assertEquals(1, out.size(), "only the failed request is passed on");
        assertInstanceOf(cause, out.get(0).decoderResult().cause(), String.valueOf(out.get(0).decoderResult()));
        assertTrue(out.get(0).decoderResult().cause().getMessage().length() > 10, "a message that says why");
        assertEquals(0, in.refCnt(), "the rest of the input is released");
        assertEquals(0, later.refCnt(), "input after a refusal is released");
    }

    @ParameterizedTest
    @MethodSource("refusedRequests")
    void aRefusedRequestIsRefusedTheSameWayByteByByte(String request, Class<? extends Throwable> cause) {
        EmbeddedChannel ch = channel(ctx -> { });
        write(ch, request.split(""));
        List<FullHttpRequest> out = recorder(ch).requests();
        assertEquals(1, out.size());
        assertInstanceOf(cause, out.get(0).decoderResult().cause());
    }

    @Test
    void garbageIsRefusedBeforeItsLineEnds() {
        EmbeddedChannel ch = channel();
        write(ch, "\u0016\u0003\u0001\u0002\u0000\u0001");
        List<FullHttpRequest> out = recorder(ch).requests();
        assertEquals(1, out.size());
        assertInstanceOf(BadRequestException.class, out.get(0).decoderResult().cause());
    }

    @Test
    void aRefusedRequestKeepsWhatWasReadOfItsHead() {
        EmbeddedChannel ch = channel();
        write(ch, "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 51\r\n\r\n");
        FullHttpRequest r = recorder(ch).requests().get(0);
        assertInstanceOf(TooLongHttpContentException.class, r.decoderResult().cause());
        assertSame(HttpMethod.POST, r.method());
        assertEquals("/big", r.uri());
        assertEquals(0, r.content().readableBytes());
    }

    // ---- limits: at the limit and one over ----

    /** A request line of exactly {@code length} bytes. */
    private static String requestLine(int length) {
        return "GET /" + "a".repeat(length - "GET / HTTP/1.1".length()) + " HTTP/1.1\r\n";
    }

    /** Field lines of exactly {@code length} bytes, CRLFs not counted, Host included. */
    private static String fields(int length) {
        return "Host: x\r\nX: " + "v".repeat(length - "Host: x".length() - "X: ".length()) + "\r\n";
    }

    @Test
    void theRequestLineLimit() {
        assertEquals(1, decodeInPieces(requestLine(MAX_LINE) + "Host: x\r\n\r\n").size());
        assertRefused(TooLongHttpLineException.class, requestLine(MAX_LINE + 1) + "Host: x\r\n\r\n");
        // Refused as soon as the line is known to be too long, before its end arrives.
        assertRefused(TooLongHttpLineException.class, requestLine(MAX_LINE + 1).substring(0, MAX_LINE + 1));
        assertNoRequestYet(requestLine(MAX_LINE).substring(0, MAX_LINE + 1));
    }

    @Test
    void theHeaderLimitCountsFieldBytesWithoutTheirCrlf() {
        assertEquals(1, decodeInPieces("GET / HTTP/1.1\r\n" + fields(MAX_HEADER) + "\r\n").size());
        assertRefused(TooLongHttpHeaderException.class, "GET / HTTP/1.1\r\n" + fields(MAX_HEADER + 1) + "\r\n");
        String over = "GET / HTTP/1.1\r\n" + fields(MAX_HEADER + 1);
        assertRefused(TooLongHttpHeaderException.class, over.substring(0, over.length() - 2));
        String at = "GET / HTTP/1.1\r\n" + fields(MAX_HEADER);
        assertNoRequestYet(at.substring(0, at.length() - 1));
    }

    @Test
    void trailerFieldsCountAgainstTheHeaderLimitWithTheHead() {
        String head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
        int headBytes = "Host: x".length() + "Transfer-Encoding: chunked".length();
        String trailerAt = "T: " + "t".repeat(MAX_HEADER - headBytes - 3) + "\r\n\r\n";
        List<Decoded> ok = decodeInPieces(head + trailerAt);
        assertEquals(1, ok.size());
        assertEquals(1, ok.get(0).trailers().size());
        String trailerOver = "T: " + "t".repeat(MAX_HEADER - headBytes - 2) + "\r\n\r\n";
        assertRefused(TooLongHttpHeaderException.class, head + trailerOver);
    }

    @Test
    void theBodyLimitForAFixedLength() {
        List<Decoded> ok = decodeInPieces("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + MAX_BODY + "\r\n\r\n"
                + "b".repeat(MAX_BODY));
        assertEquals("b".repeat(MAX_BODY), ok.get(0).body());
        assertRefused(TooLongHttpContentException.class, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: "
                + (MAX_BODY + 1) + "\r\n\r\n");
    }

    @Test
    void theBodyLimitForChunks() {
        String at = chunked("1e\r\n" + "c".repeat(30) + "\r\n14\r\n" + "d".repeat(20) + "\r\n0\r\n\r\n");
        assertEquals("c".repeat(30) + "d".repeat(20), decodeInPieces(at).get(0).body());
        // Refused at the chunk size that would go over, before its data arrives.
        assertRefused(TooLongHttpContentException.class, chunked("1e\r\n" + "c".repeat(30) + "\r\n15\r\n"));
        assertRefused(TooLongHttpContentException.class, chunked("33\r\n"));
    }

    @Test
    void aZeroBodyLimitTakesOnlyEmptyBodies() {
        EmbeddedChannel ch = channel(new RequestDecoder(new Limits(MAX_LINE, MAX_HEADER, 0, 1_000_000_000L),
                RequestDecoder.ContinueSender.NOW));
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" + chunked("0\r\n\r\n") + chunked("1\r\n"));
        List<FullHttpRequest> out = recorder(ch).requests();
        assertEquals(3, out.size());
        assertTrue(out.get(0).decoderResult().isSuccess());
        assertTrue(out.get(1).decoderResult().isSuccess());
        assertInstanceOf(TooLongHttpContentException.class, out.get(2).decoderResult().cause());
    }

    /**
     * Found by the fuzz test: a field line that is all name and no colon, right after a line with a colon just
     * past its length, read that earlier line's colon from the scratch array and failed the pipeline.
     */
    @Test
    void aFieldLineWithoutAColonAfterALongerLineWithOneIsABadRequest() {
        assertRefused(BadRequestException.class, "GET / HTTP/1.1\r\nHost: a\r\nXabc\r\n\r\n");
        assertRefused(BadRequestException.class, "GET / HTTP/1.1\r\nHost: a\r\nX-Long-Name: v\r\nXabcdefghij\r\n\r\n");
    }

    private void assertRefused(Class<? extends Throwable> cause, String input) {
        EmbeddedChannel ch = channel();
        write(ch, input);
        List<FullHttpRequest> out = recorder(ch).requests();
        assertEquals(1, out.size(), "one failed request for " + input);
        assertInstanceOf(cause, out.get(0).decoderResult().cause());
    }

    private void assertNoRequestYet(String input) {
        EmbeddedChannel ch = channel();
        write(ch, input);
        assertEquals(List.of(), recorder(ch).reads);
    }

    // ---- 100-continue ----

    @Test
    void expectContinueGets100BeforeTheBodyAndThenTheRequest() {
        List<String> events = new ArrayList<>();
        EmbeddedChannel ch = channel(ctx -> events.add("100"));
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
        assertEquals(List.of("100"), events);
        assertEquals(List.of(), recorder(ch).reads);
        write(ch, "hello");
        assertEquals("hello", recorder(ch).requests().get(0).content().toString(StandardCharsets.US_ASCII));
        write(ch, chunked("").replace("Host: x\r\n", "Host: x\r\nExpect: 100-continue\r\n"));
        assertEquals(List.of("100", "100"), events, "a chunked body is expected too");
    }

    @Test
    void theDefault100IsItsBytesWrittenAtOnce() {
        EmbeddedChannel ch = channel();
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        ByteBuf sent = ch.readOutbound();
        assertEquals("HTTP/1.1 100 Continue\r\n\r\n", sent.toString(StandardCharsets.US_ASCII));
        sent.release();
        assertNull(ch.readOutbound());
    }

    @Test
    void no100WhenTheBodyIsRefusedAbsentOrAlreadyArrivingOrTheRequestIsHttp10() {
        List<String> events = new ArrayList<>();
        EmbeddedChannel big = channel(ctx -> events.add("100"));
        write(big, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 51\r\n\r\n");
        assertInstanceOf(TooLongHttpContentException.class, recorder(big).requests().get(0).decoderResult().cause());
        EmbeddedChannel ch = channel(ctx -> events.add("100"));
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
                "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhe", "llo",
                "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", "hello",
                "POST / HTTP/1.0\r\nExpect: unknown to 1.0\r\nContent-Length: 0\r\n\r\n");
        assertEquals(List.of(), events);
        assertEquals(4, recorder(ch).reads.size());
        recorder(ch).requests().forEach(r -> assertTrue(r.decoderResult().isSuccess()));
    }

    // ---- the header timeout ----

    @Test
    void aHeadNotCompleteInTimeIsPassedOnFailedThenAReadComplete() {
        EmbeddedChannel ch = channel();
        write(ch, "GET / HTTP/1.1\r\nHo");
        ch.advanceTimeBy(TIMEOUT_MS - 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(List.of(), recorder(ch).reads);
        int completes = recorder(ch).readCompletes;
        write(ch, "s");
        ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        List<FullHttpRequest> out = recorder(ch).requests();
        assertEquals(1, out.size());
        assertInstanceOf(HeaderTimeoutException.class, out.get(0).decoderResult().cause());
        assertEquals(completes + 2, recorder(ch).readCompletes, "the read's, then the timeout's");
        write(ch, "t: x\r\n\r\n");
        assertEquals(1, recorder(ch).reads.size(), "nothing after the timeout");
    }

    @Test
    void noTimerWithoutAPartialHead() {
        EmbeddedChannel ch = channel();
        assertEquals(-1, ch.runScheduledPendingTasks(), "none when idle");
        write(ch, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(-1, ch.runScheduledPendingTasks(), "none between requests");
        write(ch, "\r\n", "\r\n\r\n");
        assertEquals(-1, ch.runScheduledPendingTasks(), "none for empty lines");
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
        assertEquals(-1, ch.runScheduledPendingTasks(), "none while a body arrives");
        write(ch, "cde");
        write(ch, "G");
        assertTrue(ch.runScheduledPendingTasks() > 0, "one once a head begins");
        write(ch, "ET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(-1, ch.runScheduledPendingTasks(), "cancelled when it ends");
        ch.advanceTimeBy(10 * TIMEOUT_MS, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(3, recorder(ch).reads.size());
        recorder(ch).requests().forEach(r -> assertTrue(r.decoderResult().isSuccess()));
    }

    @Test
    void aPipelinedHeadHasItsOwnFullTime() {
        EmbeddedChannel ch = channel();
        write(ch, "GET /a HTTP/1.1\r\nHo");
        ch.advanceTimeBy(600, TimeUnit.MILLISECONDS);
        write(ch, "st: x\r\n\r\nGET /b HTTP/1.1\r\n");
        ch.advanceTimeBy(500, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(1, recorder(ch).reads.size(), "the second head started 500 ms ago");
        ch.advanceTimeBy(500, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        List<FullHttpRequest> out = recorder(ch).requests();
        assertEquals(2, out.size());
        assertInstanceOf(HeaderTimeoutException.class, out.get(1).decoderResult().cause());
    }

    // ---- the end of input and of the connection ----

    @Test
    void inputEndingInsideAHeadIsReportedAtTheCloseAndNotPassedOn() {
        EmbeddedChannel ch = channel();
        write(ch, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HT");
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertEquals(1, recorder(ch).reads.size());
        assertEquals(List.of(), recorder(ch).errors, "not before the close: earlier answers go out first");
        assertEquals(-1, ch.runScheduledPendingTasks(), "no header timeout for a head that cannot end");
        ch.close();
        assertEquals(1, recorder(ch).errors.size());
        assertInstanceOf(PrematureChannelClosureException.class, recorder(ch).errors.get(0));
        assertEquals(1, recorder(ch).inactive);
    }

    @Test
    void inputEndingInsideABodyIsReportedAtTheClose() {
        for (String cut : List.of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
                chunked("5\r\nhe"), chunked("5\r\nhello"), chunked("5\r\nhello\r\n"), chunked("0\r\nX: y\r\n"))) {
            EmbeddedChannel ch = channel();
            write(ch, cut);
            ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            ch.close();
            assertEquals(1, recorder(ch).errors.size(), cut);
            assertInstanceOf(PrematureChannelClosureException.class, recorder(ch).errors.get(0));
            assertEquals(List.of(), recorder(ch).reads);
        }
    }

    @Test
    void aCloseInsideABodyIsReportedEvenWithoutTheEndOfInput() {
        EmbeddedChannel ch = channel();
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        ch.close();
        assertInstanceOf(PrematureChannelClosureException.class, recorder(ch).errors.get(0));
    }

    @Test
    void noReportForEmptyLinesAnIdleConnectionARefusedRequestOrAHeadCutWithoutTheEndOfInput() {
        for (String input : List.of("", "\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n",
                "BAD\u0001 / HTTP/1.1\r\n")) {
            EmbeddedChannel ch = channel();
            if (!input.isEmpty()) {
                write(ch, input);
            }
            ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            ch.close();
            assertEquals(List.of(), recorder(ch).errors, input);
        }
        EmbeddedChannel reset = channel();
        write(reset, "GET / HTTP/1.1\r\nHo");
        reset.close();
        assertEquals(List.of(), recorder(reset).errors, "a head cut by a reset or by the server is not reported");
    }

    // ---- the pipeline ----

    @Test
    void withAutoReadOffItReadsOnOnlyWhileNoRequestCame() {
        EmbeddedChannel ch = channel();
        ch.config().setAutoRead(false);
        ReadCounter reads = ch.pipeline().get(ReadCounter.class);
        int before = reads.reads;
        write(ch, "GET / HTTP/1.1\r\n");
        assertEquals(before + 1, reads.reads, "a partial request: read on");
        write(ch, "Host: x\r\n\r\n");
        assertEquals(before + 1, reads.reads, "a request came: the protocol decides");
        ch.pipeline().fireChannelReadComplete();
        assertEquals(before + 1, reads.reads, "a batch without bytes: nothing to read on for");
    }

    @Test
    void removedItHandsTheUndecodedBytesOn() {
        EmbeddedChannel ch = channel();
        write(ch, "GET / HT");
        ch.pipeline().remove(RequestDecoder.class);
        ByteBuf rest = (ByteBuf) recorder(ch).reads.get(0);
        assertEquals("GET / HT", rest.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void aPartialBodyIsReleasedWithTheConnection() {
        EmbeddedChannel ch = channel();
        ByteBuf in = bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        ch.writeInbound(in);
        assertEquals(0, in.refCnt(), "the body bytes were copied into a buffer of the body's own");
        ch.close();
        assertTrue(recorder(ch).reads.isEmpty());
    }

    @Test
    void aBodyThatArrivedWithItsHeadIsASliceOfTheReceivedBuffer() {
        EmbeddedChannel ch = channel();
        ByteBuf in = bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        ch.writeInbound(in);
        FullHttpRequest r = recorder(ch).requests().get(0);
        assertEquals(1, in.refCnt(), "held by the body alone");
        assertEquals("abc", r.content().toString(StandardCharsets.US_ASCII));
        recorder(ch).releaseAll();
        assertEquals(0, in.refCnt());
    }
}
