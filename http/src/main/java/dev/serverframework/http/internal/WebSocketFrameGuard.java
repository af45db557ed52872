package dev.serverframework.http.internal;

import dev.serverframework.http.websocket.WebSocket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.CodecException;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ByteProcessor;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/**
 * The WebSocket codec between the frame decoder (and inflater) and the aggregator: checks the text of each
 * fragment as it comes, so that bad UTF-8 is refused at once (1007), even in a message that never ends, and
 * turns that error and the first error of the codecs before it into a {@link WebSocketViolation} message
 * with its close code, so that the protocol answers it in order with the frames before, and drops everything
 * after it. Also refuses reserved bits that no agreed extension took (the inflater clears RSV1 of the
 * messages it inflates), and a frame over the largest message: the frame decoder's limit on a compressed
 * connection leaves room for deflate's overhead, so an uncompressed frame there is held to the limit here.
 * One handler for what Netty does in two (its UTF-8 validator is one more handler per idle socket). On the
 * way out, it drops data frames written after a close frame. One per connection; on the I/O loop.
 */
final class WebSocketFrameGuard extends ChannelDuplexHandler implements ByteProcessor {
    private final int maxMessageSize;
    private boolean violated;
    /** A close frame has gone out: data frames written after it are dropped (RFC 6455 5.5.1). */
    private boolean closeSent;
    /** A fragmented text message is under way: its continuations are text. */
    private boolean inText;
    /** UTF-8 across a text message's fragments: continuation bytes still due, and the range of the next. */
    private int utf8Due;
    private int utf8Lower = 0x80;
    private int utf8Upper = 0xBF;

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
        if (msg instanceof WebSocketFrame frame && !textIsUtf8(frame)) {
            frame.release();
            violation(ctx, WebSocket.INVALID_PAYLOAD, "text message is not valid UTF-8");
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * Lets out frames in the order the I/O loop sees them, and no data frame after a close frame: a send that
     * raced the close on another thread, and passed its check before the close, is dropped here (its write
     * fails). Control frames still go out: a ping is answered until the peer's close has come. On the I/O loop.
     */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (closeSent && isData(msg)) {
            ReferenceCountUtil.release(msg);
            if (!promise.isVoid()) {
                promise.tryFailure(new IllegalStateException("the WebSocket is closing"));
            }
            return;
        }
        if (msg instanceof CloseWebSocketFrame) {
            closeSent = true;
        }
        ctx.write(msg, promise);
    }

    /** A data frame: a message's frame, or a {@code PreparedMessage}'s bytes (never empty, unlike a marker). */
    private static boolean isData(Object msg) {
        return msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame
                || msg instanceof ContinuationWebSocketFrame || msg instanceof ByteBuf b && b.isReadable();
    }

    /** Checks a data frame's text, carrying a character cut by a fragment's end into the next fragment. */
    private boolean textIsUtf8(WebSocketFrame frame) {
        boolean text;
        if (frame instanceof TextWebSocketFrame) {
            text = true;
            utf8Due = 0;
            utf8Lower = 0x80;
            utf8Upper = 0xBF;
        } else if (frame instanceof ContinuationWebSocketFrame) {
            text = inText;
        } else if (frame instanceof BinaryWebSocketFrame) {
            text = false;
        } else {
            return true; // a control frame, between fragments or not
        }
        inText = text && !frame.isFinalFragment();
        if (!text) {
            return true;
        }
        ByteBuf content = frame.content();
        if (content.forEachByte(this) != -1) {
            return false;
        }
        // The message's end must not cut a character.
        return !frame.isFinalFragment() || utf8Due == 0;
    }

    /**
     * One byte of text, by the table of well-formed UTF-8 (Unicode 3.9, table 3-7): no overlong forms, no
     * surrogates, nothing past U+10FFFF. False stops the scan at a bad byte.
     */
    @Override
    public boolean process(byte value) {
        int b = value & 0xFF;
        if (utf8Due > 0) {
            if (b < utf8Lower || b > utf8Upper) {
                return false;
            }
            utf8Due--;
            utf8Lower = 0x80;
            utf8Upper = 0xBF;
            return true;
        }
        if (b < 0x80) {
            return true;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            utf8Due = 1;
        } else if (b == 0xE0) {
            utf8Due = 2;
            utf8Lower = 0xA0;
        } else if (b == 0xED) {
            utf8Due = 2;
            utf8Upper = 0x9F;
        } else if (b >= 0xE1 && b <= 0xEF) {
            utf8Due = 2;
        } else if (b == 0xF0) {
            utf8Due = 3;
            utf8Lower = 0x90;
        } else if (b >= 0xF1 && b <= 0xF3) {
            utf8Due = 3;
        } else if (b == 0xF4) {
            utf8Due = 3;
            utf8Upper = 0x8F;
        } else {
            return false;
        }
        return true;
    }

    /**
     * Maps a complaint of the codecs before this one (frame decoder, inflater) to a close code. It may come
     * wrapped (a decoder wraps what a handler in it threw), so the cause chain is searched, outermost first,
     * for a type that says which rule was broken. Once a violation is being answered, what the codecs still
     * say about input that is discarded anyway is dropped: it is the same peer's same fault, not news. An end
     * of the connection inside a message is no rule broken (the peer went away, or the server stopped): it
     * goes on to the framework, which counts it as an end in mid-message, and so does anything else (an I/O
     * error, which the framework counts and logs as the peer's doing, or a bug).
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
