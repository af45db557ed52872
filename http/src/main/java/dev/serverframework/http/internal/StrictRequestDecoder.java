package dev.serverframework.http.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * Netty's request decoder with the stricter rules of RFC 9112 that nginx enforces, and a note of whether a
 * request's head is half-read. Each rule fails the request, which the protocol answers in request order
 * and then closes the connection (the decoder discards what follows):
 * <ul>
 * <li>a version other than {@code HTTP/1.0} and {@code HTTP/1.1} in HTTP/1 syntax ({@code HTTP/2.0},
 *     {@code HTTP/1.2}) fails with {@link UnsupportedVersionException} (505); a protocol name that is not
 *     exactly {@code HTTP} ({@code http/1.1}, {@code HTTPS/1.1}) is malformed (400);</li>
 * <li>a field line starting with a space or a tab (obsolete line folding, or whitespace before the first
 *     field, RFC 9112 5.2 and 2.2) is malformed (400); Netty would unfold it;</li>
 * <li>an HTTP/1.1 request without {@code Host}, or any request with more than one {@code Host} field
 *     (RFC 9112 3.2), is malformed (400);</li>
 * <li>a {@code Transfer-Encoding} other than plain {@code chunked} fails the request with
 *     {@link UnsupportedTransferCodingException} (answered 501); with {@code Content-Length} as well it
 *     is request smuggling, which Netty rejects (400);</li>
 * <li>an {@code Expect} other than {@code 100-continue} in an HTTP/1.1 request fails it with
 *     {@link ExpectationFailedException} (417), here rather than in the aggregator, so that the 417 keeps
 *     its place behind the responses to earlier pipelined requests;</li>
 * <li>{@link #isAwaitingHeaders()} is true from the first byte of a request until its head is decoded,
 *     which is what the header timeout watches;</li>
 * <li>a client that ends its input (FIN) in the middle of a request head is reported, when the
 *     connection closes, as a {@link PrematureChannelClosureException}, which the framework counts as a
 *     close in the middle of a message, as Netty's aggregator does for a body cut short. Nothing is answered:
 *     no request was made. (Netty would pass on a head cut after its request line as a failed request,
 *     answered 400 and counted as a protocol error, and one cut inside its request line not at all.)</li>
 * </ul>
 * One per connection; runs on the I/O loop.
 */
public final class StrictRequestDecoder extends HttpRequestDecoder {
    private boolean inBody;
    private boolean awaitingHeaders;
    private long headersStartedNanos;
    /**
     * The awaited head has a byte other than CR and LF: it is a request begun, not the empty lines a server
     * ignores before a request line (RFC 9112 2.2).
     */
    private boolean headBytesSeen;
    /** The peer ended its input (FIN); set before the last decoding that it causes. */
    private boolean inputShutdown;
    /** The peer ended its input inside a request head: reported when the connection closes. */
    private boolean headCutShort;
    /** The buffer being decoded, while {@link #decode} runs: the header hooks read their place in it. */
    private ByteBuf decoding;
    /**
     * Where the field lines not yet checked for folding start in {@link #decoding}; -1 outside a head's
     * field lines. Netty consumes a head line by line, so the lines are checked as they are consumed.
     */
    private int fieldLinesFrom = -1;
    /** The last checked byte of the field lines was a line's end: the next one starts a line. */
    private boolean atLineStart;
    /** A field line of the current head starts with a space or a tab. */
    private boolean foldedLine;

    /** A decoder with Netty's limits and options as configured. */
    public StrictRequestDecoder(HttpDecoderConfig config) {
        super(config);
    }

    /** A transfer coding this server does not implement. */
    public static final class UnsupportedTransferCodingException extends IllegalArgumentException {
        UnsupportedTransferCodingException(String coding) {
            super("unsupported Transfer-Encoding: " + coding);
        }
    }

    /** A request in HTTP/1 syntax whose version this server does not speak (answered 505). */
    public static final class UnsupportedVersionException extends IllegalArgumentException {
        UnsupportedVersionException(String version) {
            super("unsupported HTTP version: " + version);
        }
    }

    /** A request with an expectation other than {@code 100-continue} (answered 417). */
    public static final class ExpectationFailedException extends IllegalArgumentException {
        ExpectationFailedException(String expectation) {
            super("unsupported expectation: " + expectation);
        }
    }

    @Override
    protected HttpMessage createMessage(String[] initialLine) throws Exception {
        checkVersion(initialLine[2]);
        HttpMessage message = super.createMessage(initialLine);
        // Called once the request line is consumed: the field lines start here.
        fieldLinesFrom = decoding.readerIndex();
        atLineStart = true;
        foldedLine = false;
        return message;
    }

    /**
     * HTTP-version is exactly "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3, case-sensitive); of those, only 1.0 and
     * 1.1 are HTTP/1 as this server speaks it. Netty's own check upper-cases the name and accepts any digits.
     */
    private static void checkVersion(String version) {
        if (version.equals("HTTP/1.1") || version.equals("HTTP/1.0")) {
            return;
        }
        if (version.length() == 8 && version.startsWith("HTTP/") && isDigit(version.charAt(5))
                && version.charAt(6) == '.' && isDigit(version.charAt(7))) {
            throw new UnsupportedVersionException(version);
        }
        throw new IllegalArgumentException("invalid HTTP version: " + version);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        // Called once the head is parsed (its last line consumed) and before Netty looks at the framing headers.
        if (fieldLinesFrom >= 0 && decoding != null) {
            checkFieldLines(decoding, fieldLinesFrom, decoding.readerIndex());
        }
        fieldLinesFrom = -1;
        if (foldedLine) {
            throw new IllegalArgumentException("a field line starts with whitespace (obsolete line folding)");
        }
        HttpHeaders headers = msg.headers();
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            throw new IllegalArgumentException("more than one Host field");
        }
        if (hosts.isEmpty() && msg.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            throw new IllegalArgumentException("HTTP/1.1 request without Host");
        }
        List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty() && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)
                && !(codings.size() == 1 && codings.get(0).trim().equalsIgnoreCase("chunked"))) {
            throw new UnsupportedTransferCodingException(String.join(", ", codings));
        }
        if (headers.contains(HttpHeaderNames.EXPECT) && msg.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            // An HTTP/1.0 request's expectation is ignored (RFC 9110 10.1.1).
            for (String expectation : headers.getAll(HttpHeaderNames.EXPECT)) {
                if (!HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expectation.trim())) {
                    throw new ExpectationFailedException(expectation);
                }
            }
        }
        return super.isContentAlwaysEmpty(msg);
    }

    /**
     * Notes a field line in {@code [from, to)} that starts with a space or a tab. The range holds whole lines
     * as Netty consumed them; a line's start may be at the end of an earlier range.
     */
    private void checkFieldLines(ByteBuf buffer, int from, int to) {
        int i = from;
        while (i < to) {
            if (atLineStart) {
                byte first = buffer.getByte(i);
                foldedLine |= first == ' ' || first == '\t';
            }
            int lf = buffer.indexOf(i, to, (byte) '\n');
            if (lf < 0) {
                atLineStart = false;
                return;
            }
            atLineStart = true;
            i = lf + 1;
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        int readableBefore = buffer.readableBytes();
        int readerBefore = buffer.readerIndex();
        int produced = out.size();
        if (fieldLinesFrom >= 0) {
            // A head's field lines go on: the earlier ones were checked and consumed.
            fieldLinesFrom = readerBefore;
        }
        decoding = buffer;
        try {
            super.decode(ctx, buffer, out);
        } finally {
            decoding = null;
        }
        if (fieldLinesFrom >= 0) {
            checkFieldLines(buffer, fieldLinesFrom, buffer.readerIndex());
        }
        // This call ended a request head or a whole request: what it consumed belonged to that one, and only
        // bytes left after it can start the next head.
        boolean ended = false;
        for (int i = produced; i < out.size(); i++) {
            Object o = out.get(i);
            if (o instanceof HttpRequest) {
                fieldLinesFrom = -1;
                awaitingHeaders = false;
                headBytesSeen = false;
                inBody = true;
                ended = true;
                if (i + 1 < out.size() && out.get(i + 1) == LastHttpContent.EMPTY_LAST_CONTENT
                        && !(o instanceof FullHttpRequest) && ((HttpRequest) o).decoderResult().isSuccess()) {
                    // A request without a body, complete in one piece: hand it on as a full request, so the
                    // aggregator lets it pass instead of building a composite buffer for nothing.
                    out.set(i, full((HttpRequest) o));
                    out.remove(i + 1);
                    inBody = false;
                }
            }
            if (o instanceof LastHttpContent) {
                inBody = false;
                ended = true;
            }
        }
        boolean sawBytes = buffer.readableBytes() > 0 || readableBefore > buffer.readableBytes();
        if (!inBody && !awaitingHeaders && sawBytes && (!ended || buffer.isReadable())) {
            awaitingHeaders = true;
            headersStartedNanos = System.nanoTime();
        }
        if (awaitingHeaders && !headBytesSeen) {
            // This call's bytes are all still in the buffer, consumed or not; after an ended head or body, only
            // the unconsumed ones belong to the next head.
            int from = ended ? buffer.readerIndex() : readerBefore;
            headBytesSeen = buffer.forEachByte(from, buffer.writerIndex() - from, ByteProcessor.FIND_NON_CRLF) >= 0;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        int produced = out.size();
        super.decodeLast(ctx, in, out);
        if (!awaitingHeaders) {
            return;
        }
        // The input ended inside a request head: no request was made, so none is passed on (Netty passes on
        // the part after a complete request line as a failed request, which would be answered 400).
        awaitingHeaders = false;
        for (int i = out.size() - 1; i >= produced; i--) {
            if (out.get(i) instanceof HttpMessage m && m.decoderResult().isFailure()) {
                ReferenceCountUtil.release(out.remove(i));
            }
        }
        // A reset or the server's own close is not the peer ending its message early (a reset is counted as
        // such), nor are empty lines before a request line.
        headCutShort = inputShutdown && headBytesSeen;
        headBytesSeen = false;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (headCutShort) {
            headCutShort = false;
            // Reported now, not at the end of input: the framework cuts a connection on such a failure, and
            // the answers to the requests before the cut one must go out first (the client may still read).
            ctx.fireExceptionCaught(new PrematureChannelClosureException("input ended inside a request head"));
        }
        super.channelInactive(ctx);
    }

    private static FullHttpRequest full(HttpRequest head) {
        return new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(), Unpooled.EMPTY_BUFFER,
                head.headers(), EmptyHttpHeaders.INSTANCE);
    }

    /** True while a request's head has started to arrive but is not complete. */
    public boolean isAwaitingHeaders() {
        return awaitingHeaders;
    }

    /** When the current request's first byte was decoded ({@link System#nanoTime()}). */
    public long headersStartedNanos() {
        return headersStartedNanos;
    }
}
