package dev.serverframework.core;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Watches a connection's activity at the socket end of the pipeline: counts bytes read and runs the
 * idle timeout. A read batch, a flush or {@link Connection#touch()} postpones the timeout; when it
 * passes, the protocol's {@code ping} runs and the timeout starts again. Runs on the I/O loop, except
 * {@link #touch()} and {@link #timeoutNanos(long)}, which any thread may call.
 */
final class ActivityHandler extends ChannelDuplexHandler {
    private final ChannelConnection connection;
    private ChannelHandlerContext ctx;
    private volatile long lastActivityNanos;
    private volatile long timeoutNanos;
    private boolean reading;
    /** What the transport was writing at the last check: a long file transfer is activity too. */
    private Object lastOutput;
    private long lastOutputProgress;
    private long lastPendingBytes;
    private ScheduledFuture<?> check;

    ActivityHandler(ChannelConnection connection, long timeoutNanos) {
        this.connection = connection;
        this.timeoutNanos = timeoutNanos;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    /** Changes the timeout; the next check uses it. Any thread. */
    void timeoutNanos(long nanos) {
        this.timeoutNanos = nanos;
        touch();
        ChannelHandlerContext c = ctx;
        if (c != null) {
            c.executor().execute(this::reschedule);
        }
    }

    /** Marks the connection active now. Any thread. */
    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        touch();
        if (ctx.channel().isActive()) {
            reschedule();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        touch();
        reschedule();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        if (msg instanceof ByteBuf buf) {
            connection.read(buf.readableBytes());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (reading) {
            reading = false;
            touch();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        touch();
        ctx.flush();
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

    private void cancel() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    /** Whether the transport wrote something since the last check, without a new flush (as Netty's IdleStateHandler observes output). */
    private boolean outputProgressed() {
        io.netty.channel.ChannelOutboundBuffer buf = ctx.channel().unsafe().outboundBuffer();
        if (buf == null) {
            return false;
        }
        Object current = buf.current();
        long progress = buf.currentProgress();
        long pending = buf.totalPendingWriteBytes();
        boolean changed = current != null
                && (current != lastOutput || progress != lastOutputProgress || pending != lastPendingBytes);
        lastOutput = current;
        lastOutputProgress = progress;
        lastPendingBytes = pending;
        return changed;
    }

    /** (Re)arms the check for the current deadline. On the I/O loop. */
    private void reschedule() {
        cancel();
        long timeout = timeoutNanos;
        if (timeout <= 0 || !ctx.channel().isActive()) {
            return;
        }
        long delay = lastActivityNanos + timeout - System.nanoTime();
        check = ctx.executor().schedule(this::checkIdle, Math.max(delay, 0), TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        check = null;
        long timeout = timeoutNanos;
        if (timeout <= 0 || !ctx.channel().isActive()) {
            return;
        }
        if (outputProgressed()) {
            touch();
        }
        long idle = System.nanoTime() - lastActivityNanos;
        if (idle >= timeout && !reading) {
            touch();
            connection.idleTimedOut();
        }
        reschedule();
    }
}
