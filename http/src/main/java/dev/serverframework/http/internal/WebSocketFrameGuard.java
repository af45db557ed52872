package dev.serverframework.http.internal;

import dev.serverframework.http.websocket.WebSocket;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.compression.DecompressionException;
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
 * took (the inflater clears RSV1 of the messages it inflates). One per connection; on the I/O loop.
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
        // The whole message, once reassembled (and inflated): RFC 6455 8.1 lets the check wait for its end,
        // and Netty's per-fragment validator would cost every idle socket a handler of its own.
        if (msg instanceof TextWebSocketFrame text && !ByteBufUtil.isText(text.content(), StandardCharsets.UTF_8)) {
            text.release();
            violation(ctx, WebSocket.INVALID_PAYLOAD, "text message is not valid UTF-8");
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof CorruptedWebSocketFrameException corrupted) {
            violation(ctx, corrupted.closeStatus().code(), corrupted.getMessage());
        } else if (c instanceof TooLongFrameException) {
            violation(ctx, WebSocket.MESSAGE_TOO_BIG, "message over " + maxMessageSize + " bytes");
        } else if (c instanceof DecompressionException && String.valueOf(c.getMessage()).contains("maximum size")) {
            violation(ctx, WebSocket.MESSAGE_TOO_BIG, "inflated message over " + maxMessageSize + " bytes");
        } else if (c instanceof DecoderException) {
            violation(ctx, WebSocket.INVALID_PAYLOAD, "message cannot be decoded: " + c.getMessage());
        } else {
            ctx.fireExceptionCaught(cause);
        }
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
