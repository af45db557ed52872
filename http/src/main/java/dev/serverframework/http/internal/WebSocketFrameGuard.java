package dev.serverframework.http.internal;

import dev.serverframework.http.websocket.WebSocket;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CodecException;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/**
 * The last WebSocket codec: checks that each text message is UTF-8, and turns that error and the first
 * error of the frame codecs before it into a
 * {@link WebSocketViolation} message with its close code, so that the protocol answers it in order with
 * the frames before, and drops everything after it. Also refuses reserved bits that no agreed extension
 * took (the inflater clears RSV1 of the messages it inflates), and a whole message over the largest size: the
 * frame decoder's limit on a compressed connection leaves room for deflate's overhead, so an uncompressed
 * frame there is held to the limit here. One per connection; on the I/O loop.
 */
final class WebSocketFrameGuard extends ChannelInboundHandlerAdapter {
    private final int maxMessageSize;
    private boolean violated;

    WebSocketFrameGuard(int maxMessageSize) {
        this.maxMessageSize = maxMessageSize;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (violated) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof WebSocketFrame frame && frame.rsv() != 0) {
            frame.release();
            violation(ctx, WebSocket.PROTOCOL_ERROR, "reserved bits set without an extension that defines them");
            return;
        }
        if ((msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame)
                && ((WebSocketFrame) msg).content().readableBytes() > maxMessageSize) {
            ReferenceCountUtil.release(msg);
            violation(ctx, WebSocket.MESSAGE_TOO_BIG, "message over " + maxMessageSize + " bytes");
            return;
        }
        // The whole message, once reassembled (and inflated): RFC 6455 8.1 lets the check wait for its end,
        // and Netty's per-fragment validator would cost every idle socket a handler of its own.
        if (msg instanceof TextWebSocketFrame text && !ByteBufUtil.isText(text.content(), StandardCharsets.UTF_8)) {
            text.release();
            violation(ctx, WebSocket.INVALID_PAYLOAD, "text message is not valid UTF-8");
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * Maps a codec's complaint to a close code. The complaint may come wrapped (a decoder wraps what a
     * handler in it threw), so the cause chain is searched, outermost first, for a type that says which rule
     * was broken. Once a violation is being answered, what the codecs still say about input that is
     * discarded anyway is dropped: it is the same peer's same fault, not news. The aggregator's complaint
     * that the connection ended in the middle of a message is no rule broken (the peer went away, or the
     * server stopped): the socket's close code is the one of that end, 1006 or 1001, so it goes on to the
     * framework, which counts it as an end in mid-message. So does anything else (an I/O error, which the
     * framework counts and logs as the peer's doing, or a bug).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        CodecException other = find(cause, CodecException.class);
        if (violated) {
            if (other == null) {
                ctx.fireExceptionCaught(cause);
            }
            return;
        }
        if (find(cause, PrematureChannelClosureException.class) != null) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        CorruptedWebSocketFrameException corrupted = find(cause, CorruptedWebSocketFrameException.class);
        if (corrupted != null) {
            violation(ctx, corrupted.closeStatus().code(), corrupted.getMessage());
        } else if (find(cause, TooLongFrameException.class) != null) {
            violation(ctx, WebSocket.MESSAGE_TOO_BIG, "message over " + maxMessageSize + " bytes");
        } else if (other != null) {
            violation(ctx, WebSocket.INVALID_PAYLOAD, "message cannot be decoded: " + other.getMessage());
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (int depth = 0; t != null && depth < 8; t = t.getCause(), depth++) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private void violation(ChannelHandlerContext ctx, int code, String reason) {
        if (violated) {
            return;
        }
        violated = true;
        ctx.fireChannelRead(new WebSocketViolation(code, truncate(reason == null ? "" : reason)));
    }

    /** A reason cut to the 123 bytes of UTF-8 a close frame can carry, never inside a character. */
    static String truncate(String reason) {
        if (reason.getBytes(StandardCharsets.UTF_8).length <= 123) {
            return reason;
        }
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < reason.length(); ) {
            int cp = reason.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > 123) {
                break;
            }
            sb.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return sb.toString();
    }
}
