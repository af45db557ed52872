package dev.serverframework.echo.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits the input into lines: each frame is a retained slice of one line <em>with</em> its {@code \n}
 * (and {@code \r}, if any), so an echo can send it back byte for byte. A line longer than the limit is
 * reported as Netty's {@link TooLongFrameException}, after the lines before it, and everything after it is
 * discarded: the framework hands it to {@code Protocol.onInputTooLong}, where the protocol answers with an
 * error line and closes.
 *
 * <p>One instance per connection; runs on the connection's I/O loop.
 */
public final class LineFrameDecoder extends ByteToMessageDecoder {
    private final int maxLength;
    /** Bytes of the unfinished line already searched for '\n', so a long line is scanned once. */
    private int scanned;
    private boolean failed;

    /**
     * @param maxLength the longest line accepted, in bytes, not counting its {@code \r\n} or {@code \n}; at
     *                  least 1 (the protocols' builders check it)
     */
    public LineFrameDecoder(int maxLength) {
        this.maxLength = maxLength;
    }

    /** The content of a frame as text, without its line terminator. */
    public static String text(ByteBuf frame) {
        int end = frame.writerIndex();
        if (end > frame.readerIndex() && frame.getByte(end - 1) == '\n') {
            end--;
        }
        if (end > frame.readerIndex() && frame.getByte(end - 1) == '\r') {
            end--;
        }
        return frame.toString(frame.readerIndex(), end - frame.readerIndex(), StandardCharsets.UTF_8);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int start = in.readerIndex();
        int eol = in.indexOf(start + scanned, in.writerIndex(), (byte) '\n');
        if (eol < 0) {
            scanned = in.readableBytes();
            // One byte more than the limit may be the '\r' of a line that is exactly as long as allowed.
            if (scanned > maxLength + 1) {
                fail(ctx, in);
            }
            return;
        }
        scanned = 0;
        int frameLength = eol - start + 1;
        int contentLength = frameLength - 1 - (eol > start && in.getByte(eol - 1) == '\r' ? 1 : 0);
        if (contentLength > maxLength) {
            fail(ctx, in);
            return;
        }
        out.add(in.readRetainedSlice(frameLength));
    }

    /**
     * At the end of the input an unfinished last line is a line too. Every complete line has been taken
     * by {@link #decode} before this runs, so what is left has no {@code \n}.
     */
    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed || !in.isReadable()) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int length = in.readableBytes();
        int contentLength = length - (in.getByte(in.writerIndex() - 1) == '\r' ? 1 : 0);
        if (contentLength > maxLength) {
            fail(ctx, in);
            return;
        }
        scanned = 0;
        out.add(in.readRetainedSlice(length));
    }

    /**
     * Reports the line as too long and discards the rest of the input. Fired, not thrown: a throw at the
     * end of input would keep the end-of-input event from the protocol. Each {@code decode} emits at most
     * one line, which the base class passes on before the next call, so the lines before this one have
     * gone ahead of it.
     */
    private void fail(ChannelHandlerContext ctx, ByteBuf in) {
        failed = true;
        in.skipBytes(in.readableBytes());
        ctx.fireExceptionCaught(new TooLongFrameException("line longer than " + maxLength + " bytes"));
    }
}
