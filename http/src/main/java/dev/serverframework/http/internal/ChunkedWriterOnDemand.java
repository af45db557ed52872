package dev.serverframework.http.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedWriteHandler;

/**
 * Puts Netty's {@link ChunkedWriteHandler} in the pipeline the first time a {@link ChunkedInput} (a
 * streamed body, or a file under TLS) is written, and then steps aside. Most connections never stream,
 * and the chunked writer queues every write it sees, which costs the plain responses time. Once added
 * it stays, so every later write keeps its order behind the stream. On the I/O loop.
 */
public final class ChunkedWriterOnDemand extends ChannelDuplexHandler {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ChunkedInput<?>) {
            ctx.pipeline().addBefore(ctx.name(), ctx.name() + "-writer", new ChunkedWriteHandler());
            ctx.pipeline().remove(this);
        }
        ctx.write(msg, promise);
    }
}
