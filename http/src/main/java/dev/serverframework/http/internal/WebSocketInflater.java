package dev.serverframework.http.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtension;
import io.netty.util.ReferenceCountUtil;

import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The receiving half of {@code permessage-deflate} (RFC 7692 7.2.2): inflates the frames of a message whose
 * first frame has RSV1, with the connection's sliding window kept from message to message unless the
 * client agreed to {@code client_no_context_takeover}.
 *
 * <p>Netty's inflater is not used because its size limit is not one: its zlib decoder wants at least 512
 * bytes (or twice the input left) of room after every step and fails when the buffer cannot grow, so a
 * message within a few hundred bytes of the limit, or one ending in data that does not compress, was refused
 * though it fit; it counts per frame, not per message; and after bad data it throws again when the channel
 * closes, from {@code channelInactive}, so that the framework never saw the connection end. Here the inflated
 * bytes of the whole message are counted as they are produced, and inflation stops at the first byte past
 * the largest message (1009): a few kilobytes of deflated zeros never become more than the limit in memory.
 * Data that does not inflate is 1007; RSV1 on a continuation or control frame is 1002. A stream ended with
 * BFINAL (RFC 7692 7.2.3.3) starts afresh with the next message. The errors go down the pipeline as
 * {@link CorruptedWebSocketFrameException}s, for the {@link WebSocketFrameGuard}; everything after the first
 * is dropped.
 *
 * <p>One per compressed connection, between the frame decoder and the UTF-8 check; on the I/O loop.
 */
final class WebSocketInflater extends ChannelInboundHandlerAdapter {
    private static final byte[] TAIL = {0x00, 0x00, (byte) 0xFF, (byte) 0xFF};
    private static final int STEP = 16 * 1024;

    private final int maxMessageSize;
    private final boolean noContext;
    /** Made with the first compressed message: a connection that sends none costs no zlib state. */
    private Inflater inflater;
    /** Inside a fragmented compressed message: its continuation frames are inflated too. */
    private boolean compressing;
    /** Bytes the current compressed message has inflated to so far. */
    private int messageSize;
    /** The deflate stream ended (BFINAL): the next message starts a new one. */
    private boolean streamEnded;
    private boolean failed;

    /**
     * @param maxMessageSize the largest inflated message
     * @param noContext      {@code client_no_context_takeover} was agreed: each message is a stream of its own
     */
    WebSocketInflater(int maxMessageSize, boolean noContext) {
        this.maxMessageSize = maxMessageSize;
        this.noContext = noContext;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (failed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof WebSocketFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean first = frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame;
        if ((frame.rsv() & WebSocketExtension.RSV1) != 0) {
            if (!first) {
                frame.release();
                fail(ctx, WebSocketCloseStatus.PROTOCOL_ERROR, "RSV1 on a frame other than the first of a data message");
                return;
            }
            compressing = true;
            messageSize = 0;
        } else if (!(compressing && frame instanceof ContinuationWebSocketFrame)) {
            ctx.fireChannelRead(frame);
            return;
        }
        ByteBuf out;
        try {
            out = inflate(ctx.alloc(), frame.content(), frame.isFinalFragment());
        } catch (DataFormatException e) {
            frame.release();
            fail(ctx, WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "compressed data cannot be inflated: " + e.getMessage());
            return;
        }
        if (out == null) {
            frame.release();
            fail(ctx, WebSocketCloseStatus.MESSAGE_TOO_BIG, "inflated message over " + maxMessageSize + " bytes");
            return;
        }
        int rsv = frame.rsv() & ~WebSocketExtension.RSV1;
        boolean fin = frame.isFinalFragment();
        WebSocketFrame inflated = frame instanceof TextWebSocketFrame ? new TextWebSocketFrame(fin, rsv, out)
                : frame instanceof BinaryWebSocketFrame ? new BinaryWebSocketFrame(fin, rsv, out)
                : new ContinuationWebSocketFrame(fin, rsv, out);
        frame.release();
        if (fin) {
            compressing = false;
            if (noContext || streamEnded) {
                inflater.reset();
                streamEnded = false;
            }
        }
        ctx.fireChannelRead(inflated);
    }

    /**
     * Inflates one frame's payload (and, on the message's last frame, the 4 bytes the sender removed) into a
     * new buffer; null when the message grows past the largest size, of which at most one byte more is made.
     */
    private ByteBuf inflate(ByteBufAllocator alloc, ByteBuf content, boolean last) throws DataFormatException {
        if (inflater == null) {
            inflater = new Inflater(true);
        }
        ByteBuf out = alloc.heapBuffer(Math.min(Math.max(content.readableBytes() * 2, 256), maxMessageSize + 1));
        boolean done = false;
        try {
            if (!streamEnded && content.isReadable()) {
                inflater.setInput(content.nioBuffer());
                if (!drain(out)) {
                    return null;
                }
            }
            if (last && !streamEnded) {
                inflater.setInput(ByteBuffer.wrap(TAIL));
                if (!drain(out)) {
                    return null;
                }
            }
            done = true;
            return out;
        } finally {
            if (!done) {
                out.release();
            }
        }
    }

    /** Inflates the input set until it is used up or the stream ends; false past the largest message. */
    private boolean drain(ByteBuf out) throws DataFormatException {
        while (true) {
            int room = maxMessageSize + 1 - messageSize;
            if (room <= 0) {
                return false;
            }
            out.ensureWritable(Math.min(room, STEP));
            int n = inflater.inflate(out.array(), out.arrayOffset() + out.writerIndex(), Math.min(out.writableBytes(), room));
            out.writerIndex(out.writerIndex() + n);
            messageSize += n;
            if (messageSize > maxMessageSize) {
                return false;
            }
            if (inflater.finished()) {
                // BFINAL: what is left of this message (the appended tail, say) belongs to no stream.
                streamEnded = true;
                return true;
            }
            if (n == 0) {
                if (inflater.needsInput()) {
                    return true;
                }
                // With input left and room for output, zlib stops only for a preset dictionary, which
                // permessage-deflate never has; anything else would spin here.
                throw new DataFormatException(inflater.needsDictionary() ? "a preset dictionary is asked for"
                        : "the inflater makes no progress");
            }
        }
    }

    private void fail(ChannelHandlerContext ctx, WebSocketCloseStatus status, String reason) {
        failed = true;
        end();
        ctx.fireExceptionCaught(new CorruptedWebSocketFrameException(status, reason));
    }

    private void end() {
        if (inflater != null) {
            inflater.end();
            inflater = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        end();
    }
}
