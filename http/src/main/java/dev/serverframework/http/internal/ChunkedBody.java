package dev.serverframework.http.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;

import java.nio.charset.StandardCharsets;

/**
 * A streamed body in HTTP/1.1 chunked framing (RFC 9112 7.1), as bytes: each piece of the handler's
 * input becomes {@code size CRLF data CRLF}, and its end the last chunk {@code 0 CRLF CRLF}. The same as
 * Netty's {@code HttpChunkedInput} followed by its encoder, without the message objects in between. Read
 * by the chunked writer on the I/O loop.
 */
final class ChunkedBody implements ChunkedInput<ByteBuf> {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ChunkedInput<ByteBuf> input;
    private boolean lastChunkSent;

    ChunkedBody(ChunkedInput<ByteBuf> input) {
        this.input = input;
    }

    @Override
    public boolean isEndOfInput() throws Exception {
        return input.isEndOfInput() && lastChunkSent;
    }

    @Override
    public void close() throws Exception {
        input.close();
    }

    @Deprecated
    @Override
    public ByteBuf readChunk(ChannelHandlerContext ctx) throws Exception {
        return readChunk(ctx.alloc());
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) throws Exception {
        if (input.isEndOfInput()) {
            if (lastChunkSent) {
                return null;
            }
            lastChunkSent = true;
            return Unpooled.wrappedBuffer(LAST_CHUNK);
        }
        ByteBuf data = input.readChunk(allocator);
        if (data == null) {
            return null;
        }
        if (!data.isReadable()) {
            // A zero-size chunk would end the body early: an empty piece is simply not sent.
            data.release();
            return Unpooled.EMPTY_BUFFER;
        }
        byte[] size = (Integer.toHexString(data.readableBytes()) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        return Unpooled.wrappedUnmodifiableBuffer(Unpooled.wrappedBuffer(size), data, Unpooled.wrappedBuffer(CRLF));
    }

    @Override
    public long length() {
        return input.length();
    }

    @Override
    public long progress() {
        return input.progress();
    }
}
