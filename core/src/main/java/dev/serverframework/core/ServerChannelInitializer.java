package dev.serverframework.core;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admits or refuses each accepted channel and builds the pipeline of an admitted one. Shared by all
 * channels of a server; runs on each channel's I/O loop.
 */
@io.netty.channel.ChannelHandler.Sharable
final class ServerChannelInitializer extends ChannelInitializer<Channel> {
    /** Process-wide, so an id is never reused even across servers. */
    private static final AtomicLong NEXT_ID = new AtomicLong();

    private final Server server;

    ServerChannelInitializer(Server server) {
        this.server = server;
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!server.isAccepting() || !server.registry().tryReserveSlot()) {
            refuse(ch);
            return;
        }
        ServerSettings s = server.settings();
        ChannelConnection c = new ChannelConnection(server, ch, NEXT_ID.incrementAndGet(),
                server.workerGroup().next(), s.protocol(), s.idleTimeout().toNanos());
        ch.closeFuture().addListener(f -> c.releaseSlot());
        c.initPipeline();
        server.statistics().onAccepted();
    }

    private void refuse(Channel ch) {
        server.statistics().onRejected();
        byte[] busy = server.settings().busyMessage();
        if (busy != null && server.settings().sslContext() == null && server.isAccepting()) {
            ch.writeAndFlush(Unpooled.wrappedBuffer(busy)).addListener(ChannelFutureListener.CLOSE);
            // A client that never reads must not keep the refused socket open.
            ch.eventLoop().schedule(() -> ch.close(), 1, TimeUnit.SECONDS);
        } else {
            ch.close();
        }
    }
}
