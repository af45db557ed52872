package dev.serverframework.core.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * A graceful close's last stage (nginx's {@code lingering_close}). Closing a socket whose receive
 * buffer holds unread bytes, or receives some afterwards, makes the kernel send a reset, and a reset can
 * destroy the answer the peer has not read yet. So the framework, once a close is asked for, stops
 * handing the peer's input to the protocol and discards it instead; when every pending write has gone
 * out it shuts down output (after a TLS {@code close_notify}), so the peer reads its answers and then a
 * clean end of stream; and it closes the socket when the peer closes its side, or after the linger
 * timeout.
 *
 * <p>Installed, only on connections that are closing, right after the framework's socket-end handler,
 * so nothing read from then on reaches the codecs. Runs on the I/O loop.
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {
    static final String NAME = "sf-linger";

    private final long lingerNanos;
    private ChannelHandlerContext ctx;
    private boolean outputDone;
    private ScheduledFuture<?> timer;

    private LingeringClose(long lingerNanos) {
        this.lingerNanos = lingerNanos;
    }

    /**
     * Stops the peer's input from reaching the handlers after {@code after} in {@code pipeline}; returns
     * the connection's lingering close (the one already there when input was stopped before).
     */
    static LingeringClose install(ChannelPipeline pipeline, String after, long lingerNanos) {
        LingeringClose existing = (LingeringClose) pipeline.get(NAME);
        if (existing != null) {
            return existing;
        }
        LingeringClose linger = new LingeringClose(lingerNanos);
        pipeline.addAfter(after, NAME, linger);
        return linger;
    }

    /** Whether the peer's input no longer reaches the protocol because the connection is closing. */
    static boolean isInstalled(ChannelPipeline pipeline) {
        return pipeline.context(NAME) != null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        // Input must keep being read, even when the protocol had paused it, or it piles up unread.
        ctx.channel().config().setAutoRead(true);
    }

    /**
     * Every pending write has gone out: shuts down output and waits for the peer's end of stream (or the
     * linger timeout) before closing. On the I/O loop.
     */
    void outputDone() {
        if (outputDone) {
            return;
        }
        outputDone = true;
        Channel ch = ctx.channel();
        if (!ch.isActive()) {
            return;
        }
        if (lingerNanos == 0 || !(ch instanceof DuplexChannel duplex) || duplex.isInputShutdown()) {
            ch.close();
            return;
        }
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (tls != null) {
            tls.closeOutbound().addListener(f -> shutdownOutput(duplex));
        } else {
            shutdownOutput(duplex);
        }
    }

    private void shutdownOutput(DuplexChannel ch) {
        if (!ch.isActive()) {
            return;
        }
        ch.shutdownOutput().addListener(f -> {
            if (!f.isSuccess() || ch.isInputShutdown()) {
                ch.close();
            } else {
                timer = ctx.executor().schedule(() -> {
                    ch.close();
                }, lingerNanos, TimeUnit.NANOSECONDS);
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // nothing was passed on
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // The peer is done sending: once our output is done too, nothing is left to wait for.
            if (outputDone) {
                ctx.close();
            }
            return;
        }
        if (evt instanceof ChannelInputShutdownReadComplete) {
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** The peer reset a connection that was closing anyway: nothing is lost, nothing to report. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }
}
