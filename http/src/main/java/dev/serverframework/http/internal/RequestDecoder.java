package dev.serverframework.http.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static dev.serverframework.http.internal.HttpSyntax.CONTROL;
import static dev.serverframework.http.internal.HttpSyntax.HEX;
import static dev.serverframework.http.internal.HttpSyntax.TARGET;
import static dev.serverframework.http.internal.HttpSyntax.TOKEN;
import static dev.serverframework.http.internal.HttpSyntax.chunkExtensions;
import static dev.serverframework.http.internal.HttpSyntax.digits;
import static dev.serverframework.http.internal.HttpSyntax.equalsLowerCase;
import static dev.serverframework.http.internal.HttpSyntax.fieldNameProblem;
import static dev.serverframework.http.internal.HttpSyntax.knownName;
import static dev.serverframework.http.internal.HttpSyntax.method;
import static dev.serverframework.http.internal.HttpSyntax.version;
import static dev.serverframework.http.internal.HttpSyntax.versionFailure;

/**
 * The request side of HTTP/1.1 in one handler: bytes in, one {@link FullHttpRequest} per request out, its
 * body aggregated, parsed straight from the received buffer (RFC 9112, with the rules nginx enforces).
 *
 * <p><b>Output.</b> A request is a {@link DefaultFullHttpRequest} with unvalidated headers (they are
 * validated here, as they are parsed): well-known field names are the shared {@link HttpHeaderNames}
 * constants, known methods and versions the {@link HttpMethod} and {@link HttpVersion} constants. Its body
 * is a retained slice of the received buffer when it arrived whole with its head, else a buffer of its
 * own. A chunked body is passed on as if it had had a {@code Content-Length} (the header is set and
 * {@code Transfer-Encoding} removed, as Netty's aggregator does); its trailer fields are in
 * {@link FullHttpRequest#trailingHeaders()}, except {@code Content-Length}, {@code Transfer-Encoding} and
 * {@code Trailer}, which are dropped as Netty does.
 *
 * <p><b>Rejections.</b> A request this decoder refuses is passed on as a request whose
 * {@link FullHttpRequest#decoderResult() decoderResult()} is a failure; the protocol answers it in request
 * order and closes. The cause says the status: {@link TooLongHttpLineException} (414),
 * {@link TooLongHttpHeaderException} (431, header or trailer fields over the limit, CRLFs not counted, as
 * Netty counts), {@link TooLongHttpContentException} (413), {@link HeaderTimeoutException} (408),
 * {@link UnsupportedTransferCodingException} (501), {@link UnsupportedVersionException} (505),
 * {@link ExpectationFailedException} (417) and {@link BadRequestException} (400) for every other
 * malformation: a request line other than {@code method SP request-target SP HTTP-version}, a method that is
 * not a token, a protocol other than {@code HTTP}, a line ending in a bare LF (as Netty's strict line parsing,
 * its default), a field name that is not a token or is followed by whitespace, obsolete line folding, a
 * control character in a field value, an HTTP/1.1 request without {@code Host}, two {@code Host} fields, a
 * {@code Content-Length} that is not digits or comes twice, {@code Transfer-Encoding} with
 * {@code Content-Length} or in HTTP/1.0, a bad chunk size or extension. After a rejection nothing more is
 * passed on from the connection, and what arrives is released.
 *
 * <p><b>Connection events.</b> The header timeout runs only while a request head is partly received (empty
 * lines before a request line are not a request begun), is checked at the end of each read batch, and on
 * expiry passes on a request failed with {@link HeaderTimeoutException}, then a read-complete. A peer that
 * ends its input (FIN) inside a request, or a connection that closes inside a body, is reported when it
 * closes as a {@link PrematureChannelClosureException}, which the framework counts as a close in the middle
 * of a message; nothing is answered. {@code Expect: 100-continue} on an HTTP/1.1 request whose body is
 * acceptable and not yet arriving gets {@code 100 Continue} from the {@link ContinueSender}.
 *
 * <p><b>Upgrades.</b> A request with an {@code Upgrade} field is passed on as an {@link UpgradeRequest}, and
 * what arrives behind it is held undecoded (up to {@value #MAX_HELD_BYTES} bytes, then refused with a 400)
 * until the protocol answers it: when the protocol switches, this handler leaves the pipeline and hands the
 * held bytes to the next protocol's codecs; when it declines ({@link UpgradeRequest#declined()}), decoding
 * goes on. So the first frames of a WebSocket client are never parsed as HTTP.
 *
 * <p>Between requests the handler holds no buffer and no timer. One per connection; every method runs on
 * the connection's I/O loop.
 */
public final class RequestDecoder extends ChannelInboundHandlerAdapter {
    private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /**
     * A fixed-length body up to this size gets its whole buffer at once; a larger one starts here and grows
     * as its bytes arrive, so that a client announcing a large body and then stalling holds only what it sent.
     */
    private static final int EAGER_BODY_BYTES = 64 * 1024;
    /** Lines are copied into a per-thread array to be parsed; one this long at most stays for the next. */
    private static final int SCRATCH_KEPT = 16 * 1024;
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[512];
        }
    };
    /** A request line with a byte that is no token byte in this many first bytes is refused before its end. */
    private static final int EARLY_CHECK_BYTES = 32;

    private static final byte CR = '\r';
    private static final byte LF = '\n';

    // Where the decoder is: in a request's head, in its body, or done with the connection.
    private static final byte REQUEST_LINE = 0;
    private static final byte FIELDS = 1;
    private static final byte FIXED_BODY = 2;
    private static final byte CHUNK_SIZE = 3;
    private static final byte CHUNK_DATA = 4;
    private static final byte CHUNK_END = 5;
    private static final byte TRAILERS = 6;
    /** A request was refused or the input ended: nothing more is passed on. */
    private static final byte DONE = 7;
    /**
     * A request asked to upgrade the connection: what follows it is held undecoded until the protocol
     * declines (decoding goes on) or switches (the held bytes go to the next protocol's codecs).
     */
    private static final byte AWAITING_SWITCH = 8;
    /** Bytes a client may send behind an upgrade request before its answer; more is refused with a 400. */
    static final int MAX_HELD_BYTES = 64 * 1024;

    // What the head read so far had, for the checks at its end.
    private static final int F_HOST = 1;
    private static final int F_CONTENT_LENGTH = 2;
    private static final int F_CHUNKED = 4;
    private static final int F_OTHER_CODING = 8;
    private static final int F_CONTINUE = 16;
    private static final int F_OTHER_EXPECTATION = 32;

    private final Limits limits;
    private final ContinueSender continueSender;

    /** Received bytes not yet decoded: part of a head, of a chunk-size line, or a request after the last. */
    private ByteBuf cumulation;
    private byte state;
    /** This read batch brought bytes; and passed on a request. For reading on when auto-read is off. */
    private boolean readBytes;
    private boolean fired;
    /** {@link #headStartNanos} is that of the head now partly received. */
    private boolean headTimed;
    /** The peer ended its input inside a request: reported when the connection closes. */
    private boolean cutShort;
    /** The peer ended its input while a switch was pending: passed on once the held bytes are. */
    private boolean inputShutdownHeld;
    /** Flags {@code F_*} of the head being read. */
    private int flags;
    /** Field bytes of the request so far (head and trailer), counted as Netty counts them. */
    private int fieldBytes;
    /** The Content-Length while the head is read; then the body or chunk bytes still to come. */
    private long remaining;
    private long headStartNanos;
    private ScheduledFuture<?> timer;

    // The request being decoded.
    private HttpMethod method;
    private String uri;
    private HttpVersion version;
    private HttpHeaders headers;
    private HttpHeaders trailers;
    private ByteBuf body;

    /**
     * A decoder for one connection; made as its pipeline is built, on its I/O loop.
     *
     * @param limits         the protocol's limits, shared by its connections
     * @param continueSender sends {@code 100 Continue}; {@link ContinueSender#NOW} writes it at once
     */
    public RequestDecoder(Limits limits, ContinueSender continueSender) {
        this.limits = limits;
        this.continueSender = continueSender;
    }

    /**
     * The limits a request must keep, shared by the connections of a protocol. Immutable; any thread.
     *
     * @param maxInitialLineLength longest request line (and chunk-size line), CRLF not counted
     * @param maxHeaderSize        largest field section, head and trailer together, CRLFs not counted
     * @param maxBodySize          largest body
     * @param headerTimeoutNanos   time a request head may take from its first byte to its end
     */
    public record Limits(int maxInitialLineLength, int maxHeaderSize, int maxBodySize, long headerTimeoutNanos) {
    }

    /**
     * Sends the interim {@code 100 Continue} for a request that expects it. Called on the I/O loop, when the
     * request's head is decoded and its body is acceptable but not arriving yet.
     */
    @FunctionalInterface
    public interface ContinueSender {
        /** Writes the bytes of {@code 100 Continue} at once, from the decoder's place in the pipeline. */
        ContinueSender NOW = ctx -> ctx.writeAndFlush(Unpooled.wrappedBuffer(CONTINUE));

        /** Sends {@code 100 Continue} on the decoder's connection. On the I/O loop. */
        void sendContinue(ChannelHandlerContext ctx);
    }

    /** A request this decoder refuses; no stack trace (peers cause these, and it would only show the decoder). */
    public abstract static class RejectedRequestException extends DecoderException {
        RejectedRequestException(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** A malformed request (answered 400). */
    public static final class BadRequestException extends RejectedRequestException {
        BadRequestException(String message) {
            super(message);
        }
    }

    /** A transfer coding this server does not implement: anything but exactly {@code chunked} (answered 501). */
    public static final class UnsupportedTransferCodingException extends RejectedRequestException {
        UnsupportedTransferCodingException(String coding) {
            super("unsupported Transfer-Encoding: " + coding);
        }
    }

    /** A well-formed HTTP version other than 1.0 and 1.1 (answered 505). */
    public static final class UnsupportedVersionException extends RejectedRequestException {
        UnsupportedVersionException(String version) {
            super("unsupported HTTP version: " + version);
        }
    }

    /** An expectation other than {@code 100-continue} (answered 417). */
    public static final class ExpectationFailedException extends RejectedRequestException {
        ExpectationFailedException(String expectation) {
            super("unsupported expectation: " + expectation);
        }
    }

    /** The failure of a request whose head did not arrive within the header timeout (answered 408). */
    public static final class HeaderTimeoutException extends RejectedRequestException {
        HeaderTimeoutException(long timeoutNanos) {
            super("request head not complete within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        }
    }

    // ---- channel events (I/O loop) ----

    /** Decodes received bytes and passes on each request they complete, in order. On the I/O loop. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf data)) {
            ctx.fireChannelRead(msg);
            return;
        }
        readBytes = true;
        if (state == DONE) {
            data.release();
            return;
        }
        ByteBuf in = cumulation == null ? data
                : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, data);
        cumulation = in;
        try {
            if (state == AWAITING_SWITCH && in.readableBytes() > MAX_HELD_BYTES) {
                reject(ctx, in, new BadRequestException("more than " + MAX_HELD_BYTES
                        + " bytes sent before the answer to an upgrade request"));
                return;
            }
            decode(ctx, in);
        } finally {
            // Nothing is held between requests.
            if (cumulation != null && !cumulation.isReadable()) {
                cumulation.release();
                cumulation = null;
            }
        }
    }

    /**
     * Ends a read batch: reads on if auto-read is off and no request came of it, and starts or stops the
     * header timeout. On the I/O loop.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (readBytes && !fired && !ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
        readBytes = false;
        fired = false;
        if (headPending()) {
            if (!headTimed) {
                headTimed = true;
                headStartNanos = ctx.executor().ticker().nanoTime();
            }
            if (timer == null) {
                schedule(ctx, headStartNanos + limits.headerTimeoutNanos() - ctx.executor().ticker().nanoTime());
            }
        } else {
            cancelTimer();
        }
        ctx.fireChannelReadComplete();
    }

    /** Notes the end of the peer's input: a request begun is cut short. On the I/O loop. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && state == AWAITING_SWITCH) {
            // Behind the held bytes: the protocol must not hear of it before the requests they may hold.
            inputShutdownHeld = true;
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent && state != DONE) {
            // Empty lines before a request line are not a request begun (RFC 9112 2.2).
            cutShort = headPending() || inBody();
            dropAll();
            state = DONE;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * Reports a request cut short, then passes the event on. Reported here, not at the end of input: the
     * framework cuts a connection on such a failure, and the answers to the requests before must go out
     * first. On the I/O loop.
     */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // As Netty's aggregator: a close inside a body, whatever its cause (a reset is counted as such first).
        boolean midBody = inBody();
        boolean report = cutShort || midBody;
        String what = cutShort ? "the peer ended its input inside a request"
                : "the connection closed inside a request body";
        cutShort = false;
        dropAll();
        state = DONE;
        if (report) {
            ctx.fireExceptionCaught(new PrematureChannelClosureException(what));
        }
        ctx.fireChannelInactive();
    }

    /** Hands undecoded bytes to the handler after it (a protocol switch), and frees the rest. On the I/O loop. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ByteBuf rest = cumulation;
        cumulation = null;
        boolean handOn = rest != null && rest.isReadable() && state != DONE;
        dropAll();
        state = DONE;
        if (handOn) {
            ctx.fireChannelRead(rest);
            ctx.fireChannelReadComplete();
        } else if (rest != null) {
            rest.release();
        }
        if (inputShutdownHeld) {
            inputShutdownHeld = false;
            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    /**
     * The protocol declined the upgrade a request asked for: decodes what arrived behind it, and passes on
     * an end of input held meanwhile. On the I/O loop.
     */
    private void resume(ChannelHandlerContext ctx) {
        if (state != AWAITING_SWITCH || ctx.isRemoved()) {
            return;
        }
        state = REQUEST_LINE;
        readBytes = true;
        if (cumulation != null) {
            decode(ctx, cumulation);
            if (cumulation != null && !cumulation.isReadable()) {
                releaseCumulation();
            }
        }
        channelReadComplete(ctx);
        if (inputShutdownHeld) {
            inputShutdownHeld = false;
            userEventTriggered(ctx, ChannelInputShutdownEvent.INSTANCE);
        }
    }

    // ---- decoding ----

    private void decode(ChannelHandlerContext ctx, ByteBuf in) {
        while (in.isReadable()) {
            boolean more;
            switch (state) {
                case REQUEST_LINE -> more = requestLine(ctx, in);
                case FIELDS -> more = fields(ctx, in, false);
                case FIXED_BODY, CHUNK_DATA -> more = bodyBytes(ctx, in);
                case CHUNK_SIZE -> more = chunkSize(ctx, in);
                case CHUNK_END -> more = chunkEnd(ctx, in);
                case TRAILERS -> more = fields(ctx, in, true);
                case AWAITING_SWITCH -> more = false;
                default -> {
                    in.skipBytes(in.readableBytes());
                    more = false;
                }
            }
            if (!more || ctx.isRemoved()) {
                return;
            }
        }
    }

    /** Reads a request line; false when it is incomplete or refused. */
    private boolean requestLine(ChannelHandlerContext ctx, ByteBuf in) {
        int end = in.writerIndex();
        // RFC 9112 2.2: empty lines before a request line are ignored.
        int start = in.forEachByte(in.readerIndex(), end - in.readerIndex(), ByteProcessor.FIND_NON_CRLF);
        if (start < 0) {
            in.readerIndex(end);
            return false;
        }
        in.readerIndex(start);
        int max = limits.maxInitialLineLength();
        int lf = in.indexOf(start, (int) Math.min(end, start + (long) max + 2), LF);
        if (lf < 0) {
            if (lineBytes(in, start, end) > max) {
                return reject(ctx, in, new TooLongHttpLineException("request line longer than " + max + " bytes"));
            }
            // Binary garbage (a TLS handshake, say) is refused now, not when a line feed or the timeout comes.
            int checked = Math.min(end, start + EARLY_CHECK_BYTES);
            for (int i = start; i < checked; i++) {
                byte c = in.getByte(i);
                if (c == ' ') {
                    break;
                }
                if (!TOKEN[c & 0xFF]) {
                    return reject(ctx, in, new BadRequestException("request method is not a token"));
                }
            }
            return false;
        }
        if (in.getByte(lf - 1) != CR) {
            return reject(ctx, in, new BadRequestException("request line ends in a bare LF"));
        }
        // The line feed was looked for within the limit: the line is not over it.
        int len = lf - 1 - start;
        byte[] b = scratch(len);
        in.getBytes(start, b, 0, len);
        in.readerIndex(lf + 1);
        int m = 0;
        while (m < len && TOKEN[b[m] & 0xFF]) {
            m++;
        }
        if (m == 0 || m == len || b[m] != ' ') {
            return reject(ctx, in, new BadRequestException("malformed request line: the method is not a token"
                    + " followed by one space"));
        }
        int t = m + 1;
        int u = t;
        while (u < len && TARGET[b[u] & 0xFF]) {
            u++;
        }
        if (u == t || u == len || b[u] != ' ') {
            return reject(ctx, in, new BadRequestException("malformed request line: the request-target is not"
                    + " visible characters followed by one space"));
        }
        HttpVersion v = version(b, u + 1, len);
        if (v == null) {
            return reject(ctx, in, versionFailure(b, u + 1, len));
        }
        method = method(b, m);
        uri = new String(b, t, u - t, StandardCharsets.ISO_8859_1);
        version = v;
        headers = HEADERS.newHeaders();
        state = FIELDS;
        return true;
    }

    /**
     * Reads field lines, of the head or of a chunked body's trailer, up to the empty line that ends them;
     * false when they are incomplete or refused.
     */
    private boolean fields(ChannelHandlerContext ctx, ByteBuf in, boolean trailer) {
        int max = limits.maxHeaderSize();
        for (;;) {
            int start = in.readerIndex();
            int end = in.writerIndex();
            int room = max - fieldBytes;
            int lf = in.indexOf(start, (int) Math.min(end, start + (long) room + 2), LF);
            if (lf < 0) {
                if (start < end && lineBytes(in, start, end) > room) {
                    return reject(ctx, in, new TooLongHttpHeaderException(
                            "header fields larger than " + max + " bytes"));
                }
                return false;
            }
            if (lf == start || in.getByte(lf - 1) != CR) {
                return reject(ctx, in, new BadRequestException("field line ends in a bare LF"));
            }
            int len = lf - 1 - start;
            in.readerIndex(lf + 1);
            if (len == 0) {
                return trailer ? endOfTrailer(ctx) : endOfHead(ctx, in);
            }
            fieldBytes += len;
            byte[] b = scratch(len);
            in.getBytes(start, b, 0, len);
            if (!field(ctx, in, b, len, trailer)) {
                return false;
            }
        }
    }

    /** Adds one field line ({@code b[0..len)}); false when it is refused. */
    private boolean field(ChannelHandlerContext ctx, ByteBuf in, byte[] b, int len, boolean trailer) {
        if (b[0] == ' ' || b[0] == '\t') {
            return reject(ctx, in, new BadRequestException("obsolete line folding (a field line starting with"
                    + " whitespace)"));
        }
        int n = 0;
        while (n < len && TOKEN[b[n] & 0xFF]) {
            n++;
        }
        // n == len first: the scratch array holds an earlier line's bytes past len.
        if (n == len || b[n] != ':' || n == 0) {
            return reject(ctx, in, new BadRequestException(fieldNameProblem(b, n, len)));
        }
        int v = n + 1;
        while (v < len && (b[v] == ' ' || b[v] == '\t')) {
            v++;
        }
        int e = len;
        while (e > v && (b[e - 1] == ' ' || b[e - 1] == '\t')) {
            e--;
        }
        for (int i = v; i < e; i++) {
            if (CONTROL[b[i] & 0xFF]) {
                return reject(ctx, in, new BadRequestException("control character in a field value"));
            }
        }
        AsciiString name = knownName(b, n);
        if (name == null) {
            name = new AsciiString(b, 0, n, true);
        }
        String value = e == v ? "" : new String(b, v, e - v, StandardCharsets.ISO_8859_1);
        if (trailer) {
            if (name != HttpHeaderNames.CONTENT_LENGTH && name != HttpHeaderNames.TRANSFER_ENCODING
                    && name != HttpHeaderNames.TRAILER) {
                if (trailers == null) {
                    trailers = HEADERS.newHeaders();
                }
                trailers.add(name, value);
            }
            return true;
        }
        if (name == HttpHeaderNames.HOST) {
            if ((flags & F_HOST) != 0) {
                return reject(ctx, in, new BadRequestException("more than one Host field"));
            }
            flags |= F_HOST;
        } else if (name == HttpHeaderNames.CONTENT_LENGTH) {
            if ((flags & F_CONTENT_LENGTH) != 0) {
                return reject(ctx, in, new BadRequestException("more than one Content-Length field"));
            }
            long length = digits(b, v, e);
            if (length < 0) {
                return reject(ctx, in, new BadRequestException("Content-Length is not a number: " + value));
            }
            flags |= F_CONTENT_LENGTH;
            remaining = length;
        } else if (name == HttpHeaderNames.TRANSFER_ENCODING) {
            boolean first = (flags & (F_CHUNKED | F_OTHER_CODING)) == 0;
            flags |= first && equalsLowerCase(b, v, e, "chunked") ? F_CHUNKED : F_OTHER_CODING;
        } else if (name == HttpHeaderNames.EXPECT) {
            boolean first = (flags & (F_CONTINUE | F_OTHER_EXPECTATION)) == 0;
            flags |= first && equalsLowerCase(b, v, e, "100-continue") ? F_CONTINUE : F_OTHER_EXPECTATION;
        }
        headers.add(name, value);
        return true;
    }

    /** The head is complete: checks its framing and starts the body; false when the request is refused. */
    private boolean endOfHead(ChannelHandlerContext ctx, ByteBuf in) {
        int f = flags;
        HttpVersion v = version;
        if ((f & F_HOST) == 0 && v == HttpVersion.HTTP_1_1) {
            return reject(ctx, in, new BadRequestException("HTTP/1.1 request without Host"));
        }
        boolean chunked = false;
        if ((f & (F_CHUNKED | F_OTHER_CODING)) != 0) {
            if ((f & F_CONTENT_LENGTH) != 0) {
                // Two framings: the way to request smuggling.
                return reject(ctx, in, new BadRequestException("Transfer-Encoding together with Content-Length"));
            }
            if ((f & F_OTHER_CODING) != 0) {
                return reject(ctx, in, new UnsupportedTransferCodingException(
                        String.join(", ", headers.getAll(HttpHeaderNames.TRANSFER_ENCODING))));
            }
            if (v == HttpVersion.HTTP_1_0) {
                return reject(ctx, in, new BadRequestException("Transfer-Encoding in an HTTP/1.0 request"));
            }
            chunked = true;
        }
        // RFC 9110 10.1.1: an HTTP/1.0 request's expectation is ignored.
        boolean expectContinue = false;
        if (v == HttpVersion.HTTP_1_1 && (f & (F_CONTINUE | F_OTHER_EXPECTATION)) != 0) {
            if ((f & F_OTHER_EXPECTATION) != 0) {
                return reject(ctx, in, new ExpectationFailedException(
                        String.join(", ", headers.getAll(HttpHeaderNames.EXPECT))));
            }
            expectContinue = true;
        }
        if (chunked) {
            state = CHUNK_SIZE;
            if (expectContinue && !in.isReadable()) {
                continueSender.sendContinue(ctx);
            }
            return true;
        }
        long length = (f & F_CONTENT_LENGTH) != 0 ? remaining : 0;
        if (length > limits.maxBodySize()) {
            return reject(ctx, in, tooLarge());
        }
        if (length == 0) {
            emit(ctx, Unpooled.EMPTY_BUFFER);
        } else if (in.readableBytes() >= length) {
            emit(ctx, in.readRetainedSlice((int) length));
        } else {
            // RFC 9110 10.1.1: no 100 once the client has started sending the body.
            if (expectContinue && !in.isReadable()) {
                continueSender.sendContinue(ctx);
            }
            body = ctx.alloc().buffer((int) Math.min(length, EAGER_BODY_BYTES), (int) length);
            state = FIXED_BODY;
        }
        return true;
    }

    /** Copies body bytes (of the fixed-length body or of a chunk); false until they are all there. */
    private boolean bodyBytes(ChannelHandlerContext ctx, ByteBuf in) {
        int n = (int) Math.min(remaining, in.readableBytes());
        body.writeBytes(in, n);
        remaining -= n;
        if (remaining > 0) {
            return false;
        }
        if (state == CHUNK_DATA) {
            state = CHUNK_END;
        } else {
            ByteBuf content = body;
            body = null;
            emit(ctx, content);
        }
        return true;
    }

    /** Reads a chunk-size line; false when it is incomplete or refused. */
    private boolean chunkSize(ChannelHandlerContext ctx, ByteBuf in) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        int max = limits.maxInitialLineLength();
        int lf = in.indexOf(start, (int) Math.min(end, start + (long) max + 2), LF);
        if (lf < 0) {
            if (lineBytes(in, start, end) > max) {
                return reject(ctx, in, new BadRequestException("chunk-size line longer than " + max + " bytes"));
            }
            return false;
        }
        if (lf == start || in.getByte(lf - 1) != CR) {
            return reject(ctx, in, new BadRequestException("chunk-size line ends in a bare LF"));
        }
        int len = lf - 1 - start;
        byte[] b = scratch(len);
        in.getBytes(start, b, 0, len);
        in.readerIndex(lf + 1);
        long size = 0;
        int i = 0;
        for (; i < len && HEX[b[i] & 0xFF] >= 0; i++) {
            size = size << 4 | HEX[b[i] & 0xFF];
            if (size > Integer.MAX_VALUE) {
                return reject(ctx, in, new BadRequestException("chunk size overflows"));
            }
        }
        if (i == 0) {
            return reject(ctx, in, new BadRequestException("chunk size is not hexadecimal"));
        }
        if (!chunkExtensions(b, i, len)) {
            return reject(ctx, in, new BadRequestException("malformed chunk extension"));
        }
        if (size == 0) {
            state = TRAILERS;
            return true;
        }
        long received = body == null ? 0 : body.readableBytes();
        if (received + size > limits.maxBodySize()) {
            return reject(ctx, in, tooLarge());
        }
        if (body == null) {
            body = ctx.alloc().buffer((int) Math.min(size, EAGER_BODY_BYTES), limits.maxBodySize());
        }
        remaining = size;
        state = CHUNK_DATA;
        return true;
    }

    /** Reads the CRLF after a chunk's data; false when it is incomplete or refused. */
    private boolean chunkEnd(ChannelHandlerContext ctx, ByteBuf in) {
        int r = in.readerIndex();
        boolean crFirst = in.getByte(r) == CR;
        if (crFirst && in.readableBytes() < 2) {
            return false;
        }
        if (!crFirst || in.getByte(r + 1) != LF) {
            return reject(ctx, in, new BadRequestException("chunk data not followed by CRLF"));
        }
        in.skipBytes(2);
        state = CHUNK_SIZE;
        return true;
    }

    /** The trailer is complete: the chunked request is passed on as if it had had a Content-Length. */
    private boolean endOfTrailer(ChannelHandlerContext ctx) {
        ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : body;
        body = null;
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        headers.set(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(content.readableBytes()));
        emit(ctx, content);
        return true;
    }

    /** Passes on the decoded request with this body and readies for the next. */
    private void emit(ChannelHandlerContext ctx, ByteBuf content) {
        HttpHeaders trailing = trailers == null ? EmptyHttpHeaders.INSTANCE : trailers;
        boolean upgrade = headers.contains(HttpHeaderNames.UPGRADE);
        FullHttpRequest request = upgrade
                ? new UpgradeRequest(version, method, uri, content, headers, trailing,
                        () -> ctx.executor().execute(() -> resume(ctx)))
                : new DefaultFullHttpRequest(version, method, uri, content, headers, trailing, false);
        clearRequest();
        state = upgrade ? AWAITING_SWITCH : REQUEST_LINE;
        fired = true;
        ctx.fireChannelRead(request);
    }

    /** Refuses the request: discards the rest of the input and passes on the failed request. Returns false. */
    private boolean reject(ChannelHandlerContext ctx, ByteBuf in, DecoderException cause) {
        in.skipBytes(in.readableBytes());
        fired = true;
        fail(ctx, cause);
        return false;
    }

    /** Passes on a request failed with {@code cause}; from now on nothing more is. */
    private void fail(ChannelHandlerContext ctx, DecoderException cause) {
        FullHttpRequest failed = new DefaultFullHttpRequest(version == null ? HttpVersion.HTTP_1_1 : version,
                method == null ? HttpMethod.GET : method, uri == null ? "/bad-request" : uri, Unpooled.EMPTY_BUFFER,
                headers == null ? HEADERS.newHeaders() : headers, EmptyHttpHeaders.INSTANCE, false);
        failed.setDecoderResult(DecoderResult.failure(cause));
        cancelTimer();
        releaseBody();
        clearRequest();
        state = DONE;
        ctx.fireChannelRead(failed);
    }

    private TooLongHttpContentException tooLarge() {
        return new TooLongHttpContentException("request body over " + limits.maxBodySize() + " bytes");
    }

    // ---- the header timeout ----

    private void schedule(ChannelHandlerContext ctx, long delayNanos) {
        timer = ctx.executor().schedule(() -> expire(ctx), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    }

    private void expire(ChannelHandlerContext ctx) {
        timer = null;
        if (!headPending() || !ctx.channel().isActive()) {
            return;
        }
        long left = headStartNanos + limits.headerTimeoutNanos() - ctx.executor().ticker().nanoTime();
        if (left > 0) {
            // Set for an earlier head of a pipeline: this one has the rest of its own time.
            schedule(ctx, left);
            return;
        }
        releaseCumulation();
        // Answered by the protocol, not here: the 408 must go out after the responses to earlier pipelined
        // requests. The read-complete lets a protocol on the I/O loop flush it, as after any read.
        fail(ctx, new HeaderTimeoutException(limits.headerTimeoutNanos()));
        ctx.fireChannelReadComplete();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    // ---- state ----

    /** A request head has begun (a byte other than CR and LF) and is not complete. */
    private boolean headPending() {
        return state == FIELDS || state == REQUEST_LINE && cumulation != null;
    }

    private boolean inBody() {
        return state >= FIXED_BODY && state <= TRAILERS;
    }

    private void clearRequest() {
        method = null;
        uri = null;
        version = null;
        headers = null;
        trailers = null;
        flags = 0;
        fieldBytes = 0;
        remaining = 0;
        headTimed = false;
    }

    private void releaseBody() {
        if (body != null) {
            body.release();
            body = null;
        }
    }

    private void releaseCumulation() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    /** Frees everything the connection holds: buffers, timer, the request in progress. */
    private void dropAll() {
        cancelTimer();
        releaseBody();
        releaseCumulation();
        clearRequest();
    }

    // ---- parsing helpers ----

    /** The bytes of an unfinished line from {@code start}, a CR at its end not counted. */
    private static int lineBytes(ByteBuf in, int start, int end) {
        return end - start - (in.getByte(end - 1) == CR ? 1 : 0);
    }

    private static byte[] scratch(int length) {
        byte[] b = SCRATCH.get();
        if (b.length < length) {
            b = new byte[length <= SCRATCH_KEPT ? Math.max(length, Math.min(2 * b.length, SCRATCH_KEPT)) : length];
            if (b.length <= SCRATCH_KEPT) {
                SCRATCH.set(b);
            }
        }
        return b;
    }

}
