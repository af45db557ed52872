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
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * Netty's request decoder with two more rules, and a note of whether a request's head is half-read:
 * <ul>
 * <li>a {@code Transfer-Encoding} other than plain {@code chunked} fails the request with
 *     {@link UnsupportedTransferCodingException} (answered 501); with {@code Content-Length} as well it
 *     is request smuggling, which Netty rejects (400);</li>
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

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        // Called once the head is parsed and before Netty looks at the framing headers.
        List<String> codings = msg.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty() && !msg.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
                && !(codings.size() == 1 && codings.get(0).trim().equalsIgnoreCase("chunked"))) {
            throw new UnsupportedTransferCodingException(String.join(", ", codings));
        }
        return super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        int readableBefore = buffer.readableBytes();
        int readerBefore = buffer.readerIndex();
        int produced = out.size();
        super.decode(ctx, buffer, out);
        boolean headEmitted = false;
        for (int i = produced; i < out.size(); i++) {
            Object o = out.get(i);
            if (o instanceof HttpRequest) {
                awaitingHeaders = false;
                headBytesSeen = false;
                inBody = true;
                headEmitted = true;
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
            }
        }
        boolean sawBytes = buffer.readableBytes() > 0 || readableBefore > buffer.readableBytes();
        if (!inBody && !awaitingHeaders && sawBytes && (!headEmitted || buffer.isReadable())) {
            awaitingHeaders = true;
            headersStartedNanos = System.nanoTime();
        }
        if (awaitingHeaders && !headBytesSeen) {
            // This call's bytes are all still in the buffer, consumed or not; after an emitted head, only the
            // unconsumed ones belong to the next.
            int from = headEmitted ? buffer.readerIndex() : readerBefore;
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
