package dev.serverframework.core.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Watches a connection at the socket end of the pipeline: counts bytes read, and runs its two timeouts,
 * which are different things.
 * <ul>
 * <li><b>Idle</b>: no read, write or {@code Connection.touch()} for the idle timeout. A read batch, a
 *     flush, output the transport takes, or a pause in reading that the protocol asked for postpones it;
 *     when it passes, the connection's protocol is asked to {@code ping}.</li>
 * <li><b>Write stall</b>: output is pending and the peer has taken none of it for the write-stall
 *     timeout (a peer that stopped reading). Such a connection is never idle, whatever its reads do;
 *     when the stall timeout passes it is cut.</li>
 * </ul>
 * One timer, armed for the nearer of the two deadlines, and only while one of them is on. Runs on the
 * I/O loop, except {@link #touch()} and {@link #timeoutNanos(long)}, which any thread may call.
 */
final class ActivityHandler extends ChannelDuplexHandler {
    /** While output is pending, how many times per stall timeout its progress is sampled. */
    private static final int STALL_SAMPLES = 4;

    private final ConnectionEvents events;
    /** Writes waiting in the framework's own queue are pending output too. */
    private final OutboundQueueHandler outbound;
    private final long stallTimeoutNanos;
    private ChannelHandlerContext ctx;
    private volatile long lastActivityNanos;
    private volatile long timeoutNanos;
    private boolean reading;
    /** What the transport was writing at the last sample, to see whether it took anything since. */
    private Object lastOutput;
    private long lastOutputProgress;
    private long lastPendingBytes;
    /** When output last made progress, or was seen with nothing pending. */
    private long lastOutputProgressNanos;
    private ScheduledFuture<?> check;

    ActivityHandler(ConnectionEvents events, OutboundQueueHandler outbound, long timeoutNanos, long stallTimeoutNanos) {
        this.events = events;
        this.outbound = outbound;
        this.timeoutNanos = timeoutNanos;
        this.stallTimeoutNanos = stallTimeoutNanos;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    /** Changes the idle timeout; the next check uses it. Any thread. */
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

    /** Whether the connection has been quiet (no traffic, no read under way) for {@code nanos}. I/O loop. */
    boolean quietFor(long nanos) {
        return !reading && ctx.channel().config().isAutoRead() && !outputPending()
                && System.nanoTime() - lastActivityNanos >= nanos;
    }

    /** A close waits for pending output: make sure a stall is noticed even with the idle timeout off. */
    void watchOutput() {
        if (check == null) {
            reschedule();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        touch();
        lastOutputProgressNanos = lastActivityNanos;
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
            events.bytesRead(buf.readableBytes());
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
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            // The peer took output: activity, however long it had been stalled.
            touch();
        } else {
            // Output now waits for the peer: with the idle timeout off, nothing else would watch it.
            watchOutput();
        }
        ctx.fireChannelWritabilityChanged();
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

    /** Whether bytes wait to be written: in the transport, or in the framework's own queue. */
    private boolean outputPending() {
        ChannelOutboundBuffer buf = ctx.channel().unsafe().outboundBuffer();
        // No buffer: output is shut down (a lingering close) or the channel closed; nothing can be pending.
        return buf != null && (buf.totalPendingWriteBytes() > 0 || outbound.hasQueuedWrites());
    }

    /**
     * Whether the transport wrote something since the last sample (as Netty's IdleStateHandler observes
     * output): another message at its head, more of it written, or fewer bytes pending.
     */
    private boolean outputProgressed() {
        ChannelOutboundBuffer buf = ctx.channel().unsafe().outboundBuffer();
        if (buf == null) {
            return false;
        }
        Object current = buf.current();
        long progress = buf.currentProgress();
        long pending = buf.totalPendingWriteBytes();
        boolean changed = current != lastOutput || progress != lastOutputProgress || pending < lastPendingBytes;
        lastOutput = current;
        lastOutputProgress = progress;
        lastPendingBytes = pending;
        return changed;
    }

    /** (Re)arms the timer for the nearer deadline. On the I/O loop. */
    private void reschedule() {
        cancel();
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        long delay = Long.MAX_VALUE;
        long idle = timeoutNanos;
        if (idle > 0) {
            delay = lastActivityNanos + idle - now;
        }
        if (stallTimeoutNanos > 0 && outputPending()) {
            delay = Math.min(delay, stallTimeoutNanos / STALL_SAMPLES);
        }
        if (delay != Long.MAX_VALUE) {
            check = ctx.executor().schedule(this::check, Math.max(delay, 0), TimeUnit.NANOSECONDS);
        }
    }

    private void check() {
        check = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (outputPending()) {
            if (outputProgressed()) {
                lastOutputProgressNanos = now;
                touch();
            } else if (stallTimeoutNanos > 0 && now - lastOutputProgressNanos >= stallTimeoutNanos) {
                events.writeStalled(TimeUnit.NANOSECONDS.toMillis(now - lastOutputProgressNanos));
                return;
            }
        } else {
            if (lastOutput != null) {
                // Output was pending at the last look and has all gone since: the peer was active, and
                // the idle time counts from now, not from before the wait.
                touch();
            }
            lastOutput = null;
            lastPendingBytes = 0;
            lastOutputProgressNanos = now;
            if (!ctx.channel().config().isAutoRead()) {
                // The protocol paused reading: the peer's silence is the server's doing, not idleness.
                touch();
            } else if (timeoutNanos > 0 && !reading && now - lastActivityNanos >= timeoutNanos
                    && !LingeringClose.isInstalled(ctx.pipeline())) {
                // (A closing connection is past asking its protocol anything.)
                touch();
                events.idleTimedOut();
            }
        }
        reschedule();
    }
}
