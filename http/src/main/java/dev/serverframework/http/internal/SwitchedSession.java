package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import io.netty.util.ReferenceCountUtil;

import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * What the session of a connection that HTTP switched away (a WebSocket, a Server-Sent Events stream) holds
 * whatever its protocol: the request that opened it (target and path parameters), and its sending side:
 * writes counted as queued until the transport has taken them, a limit past which the peer is too slow (the
 * subclass ends it in its protocol's way), and a timer that ends the connection when the peer has not let
 * it close in time. The count is a field of the session, not an object of its own: idle connections are
 * many. Thread-safe.
 */
abstract class SwitchedSession {
    private static final AtomicLongFieldUpdater<SwitchedSession> QUEUED =
            AtomicLongFieldUpdater.newUpdater(SwitchedSession.class, "queued");

    /** The connection written to. */
    final Connection connection;
    private final String uri;
    private final Map<String, String> pathParams;
    private volatile long queued;

    SwitchedSession(Connection connection, String uri, Map<String, String> pathParams) {
        this.connection = connection;
        this.uri = uri;
        this.pathParams = pathParams;
    }

    /** The connection underneath. Any thread. */
    public final Connection connection() {
        return connection;
    }

    /** The target of the request that opened the session, path and query. Any thread. */
    public final String uri() {
        return uri;
    }

    /** The path parameters of the route template that request matched. Any thread. */
    public final Map<String, String> pathParams() {
        return pathParams;
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
