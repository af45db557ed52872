package dev.serverframework.http.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Gets a client answered 408 and closed when it has started a request but not finished its head within
 * the header timeout (slowloris): it passes on a request failed with {@link HeaderTimeoutException}, which
 * the protocol answers in request order. It sits right after the decoder, whose progress it reads at the
 * end of each read batch; the watching runs on the I/O loop, so a slow client costs no worker until then.
 */
public final class HeaderTimeoutHandler extends ChannelDuplexHandler {
    private final StrictRequestDecoder decoder;
    private final long timeoutNanos;
    private ScheduledFuture<?> timer;
    private boolean expired;

    /** The failure of a request whose head did not arrive within the header timeout (answered 408). */
    public static final class HeaderTimeoutException extends RuntimeException {
        HeaderTimeoutException(long timeoutNanos) {
            super("request head not complete within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms", null,
                    false, false);
        }
    }

    /** Watches the progress of {@code decoder}, the connection's, against a timeout for each request head. */
    public HeaderTimeoutHandler(StrictRequestDecoder decoder, long timeoutNanos) {
        this.decoder = decoder;
        this.timeoutNanos = timeoutNanos;
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
        if (!expired && decoder.isAwaitingHeaders() && ctx.channel().isActive()) {
            expired = true;
            // Answered by the protocol, not here: the 408 must go out after the responses to earlier
            // pipelined requests that a handler may still be preparing. The read-complete lets a protocol on
            // the I/O loop flush it, as after any read.
            FullHttpRequest timedOut = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/",
                    Unpooled.EMPTY_BUFFER);
            timedOut.setDecoderResult(DecoderResult.failure(new HeaderTimeoutException(timeoutNanos)));
            ctx.fireChannelRead(timedOut);
            ctx.fireChannelReadComplete();
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
