package dev.serverframework.http.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Answers 408 and closes when a client has started a request but not finished its head within the
 * header timeout (slowloris). It sits right after the decoder, whose progress it reads at the end of
 * each read batch, and runs entirely on the I/O loop: a slow client costs no worker.
 */
public final class HeaderTimeoutHandler extends ChannelDuplexHandler {
    private final StrictRequestDecoder decoder;
    private final long timeoutNanos;
    private final CharSequence serverHeader;
    private ScheduledFuture<?> timer;

    public HeaderTimeoutHandler(StrictRequestDecoder decoder, long timeoutNanos, CharSequence serverHeader) {
        this.decoder = decoder;
        this.timeoutNanos = timeoutNanos;
        this.serverHeader = serverHeader;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (decoder.isAwaitingHeaders()) {
            if (timer == null) {
                long delay = decoder.headersStartedNanos() + timeoutNanos - System.nanoTime();
                timer = ctx.executor().schedule(() -> expire(ctx), Math.max(0, delay), TimeUnit.NANOSECONDS);
            }
        } else {
            cancel();
        }
        ctx.fireChannelReadComplete();
    }

    private void expire(ChannelHandlerContext ctx) {
        timer = null;
        if (decoder.isAwaitingHeaders() && ctx.channel().isActive()) {
            ctx.writeAndFlush(ErrorResponses.full(HttpResponseStatus.REQUEST_TIMEOUT, serverHeader, true))
                    .addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }
}
