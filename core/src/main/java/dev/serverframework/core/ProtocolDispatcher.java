package dev.serverframework.core;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;

/**
 * The last handler of every pipeline: turns channel events into the protocol's callbacks, which the
 * connection runs on its executor. Runs on the I/O loop.
 */
final class ProtocolDispatcher extends ChannelInboundHandlerAdapter {
    private final ChannelConnection connection;

    ProtocolDispatcher(ChannelConnection connection) {
        this.connection = connection;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connection.opened();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        connection.received(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        connection.readBatchComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (connection.isWritable()) {
            connection.writableAgain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        // The codecs before this handler have passed on what they decoded from the last bytes by now.
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            connection.inputClosed();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.closed();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException tooLong) {
            connection.inputTooLong(tooLong);
            return;
        }
        connection.pipelineFailed(cause);
    }
}
