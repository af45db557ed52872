package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * The sending side that WebSocket and Server-Sent Events share: writes counted as queued until the transport
 * has taken them, a limit past which the peer is too slow (the subclass ends it in its protocol's way), and
 * a timer that ends the connection when the peer has not let it close in time. The count is a field of the
 * session, not an object of its own: idle connections are many. Thread-safe.
 */
abstract class CountedWrites {
    private static final AtomicLongFieldUpdater<CountedWrites> QUEUED =
            AtomicLongFieldUpdater.newUpdater(CountedWrites.class, "queued");

    /** The connection written to. */
    final Connection connection;
    private volatile long queued;

    CountedWrites(Connection connection) {
        this.connection = connection;
    }

    /**
     * Writes {@code message} of {@code bytes} on the wire, counted until the transport has taken it, unless
     * that would put more than {@code limit} bytes in the queue: then the message is released, the peer is
     * {@linkplain #tooSlow too slow}, and the answer is false. Any thread.
     */
    final boolean writeCounted(Object message, int bytes, long limit) {
        if (QUEUED.addAndGet(this, bytes) > limit) {
            QUEUED.addAndGet(this, -bytes);
            ReferenceCountUtil.release(message);
            tooSlow(limit);
            return false;
        }
        connection.write(message).addListener(f -> QUEUED.addAndGet(this, -bytes));
        return true;
    }

    /** The peer did not take a write that would have queued more than {@code limit} bytes. Any thread. */
    abstract void tooSlow(long limit);

    /**
     * Runs {@code end} on the connection's I/O loop after {@code nanos}; a loop that is shutting down (the
     * server stops, and closes every connection) aborts the connection at once instead. Any thread.
     */
    final void afterDelay(long nanos, Runnable end) {
        try {
            connection.ioLoop().schedule(end, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            connection.abort();
        }
    }

    /** Bytes written and not yet taken by the transport. */
    public final long queuedBytes() {
        return queued;
    }
}
