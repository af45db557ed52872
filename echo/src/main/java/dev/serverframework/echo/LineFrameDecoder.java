package dev.serverframework.echo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits the input into lines: each frame is a retained slice of one line <em>with</em> its {@code \n}
 * (and {@code \r}, if any), so an echo can send it back byte for byte. A line longer than the limit is
 * not an exception but the {@link #TOO_LONG} message, after which everything else is discarded: the
 * protocol answers with an error line and closes, which an exception would not let it do.
 *
 * <p>One instance per connection; runs on the connection's I/O loop.
 */
final class LineFrameDecoder extends ByteToMessageDecoder {
    /** Handed on instead of a frame when a line is longer than the limit. */
    static final Object TOO_LONG = new Object() {
        @Override
        public String toString() {
            return "LINE_TOO_LONG";
        }
    };

    private final int maxLength;
    /** Bytes of the unfinished line already searched for '\n', so a long line is scanned once. */
    private int scanned;
    private boolean failed;

    /** @param maxLength the longest line accepted, in bytes, not counting its {@code \r\n} or {@code \n} */
    LineFrameDecoder(int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("maxLineLength must be at least 1, got " + maxLength);
        }
        this.maxLength = maxLength;
    }

    /** The content of a frame as text, without its line terminator. */
    static String text(ByteBuf frame) {
        int end = frame.writerIndex();
        if (end > frame.readerIndex() && frame.getByte(end - 1) == '\n') {
            end--;
        }
        if (end > frame.readerIndex() && frame.getByte(end - 1) == '\r') {
            end--;
        }
        return frame.toString(frame.readerIndex(), end - frame.readerIndex(), java.nio.charset.StandardCharsets.UTF_8);
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
                fail(in, out);
            }
            return;
        }
        scanned = 0;
        int frameLength = eol - start + 1;
        int contentLength = frameLength - 1 - (eol > start && in.getByte(eol - 1) == '\r' ? 1 : 0);
        if (contentLength > maxLength) {
            fail(in, out);
            return;
        }
        out.add(in.readRetainedSlice(frameLength));
    }

    /** At the end of the input an unfinished last line is a line too. */
    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (!failed && in.isReadable()) {
            int before = in.readableBytes();
            decode(ctx, in, out);
            if (!failed && in.readableBytes() == before) {
                scanned = 0;
                out.add(in.readRetainedSlice(before));
            }
        }
    }

    private void fail(ByteBuf in, List<Object> out) {
        failed = true;
        in.skipBytes(in.readableBytes());
        out.add(TOO_LONG);
    }
}
