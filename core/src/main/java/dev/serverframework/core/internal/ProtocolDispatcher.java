package dev.serverframework.core.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;

/**
 * The last handler of every pipeline: turns channel events into the protocol's callbacks, which the
 * connection runs on its executor. Runs on the I/O loop.
 */
final class ProtocolDispatcher extends ChannelInboundHandlerAdapter {
    private final ConnectionLifecycle lifecycle;

    ProtocolDispatcher(ConnectionLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        lifecycle.opened();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lifecycle.received(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        lifecycle.readBatchEnded();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        lifecycle.writabilityChanged();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        // The codecs before this handler have passed on what they decoded from the last bytes by now.
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            lifecycle.inputClosed();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        lifecycle.closed();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException tooLong) {
            lifecycle.inputTooLong(tooLong);
            return;
        }
        lifecycle.pipelineFailed(cause);
    }
}
