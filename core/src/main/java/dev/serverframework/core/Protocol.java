package dev.serverframework.core;

import io.netty.channel.ChannelPipeline;

/**
 * A protocol: the codec handlers it puts in each connection's pipeline and the callbacks that act on
 * what they decode (the C original's {@code struct Protocol}).
 *
 * <p><b>Threads.</b> {@link #initPipeline} runs on the connection's I/O event loop. Every callback runs
 * on the connection's executor: its pinned {@link Worker} when {@link #execution()} is
 * {@link Execution#WORKER} (the default), or the I/O event loop itself for {@link Execution#IO_LOOP}.
 * Either way the callbacks and tasks of one connection never run concurrently and keep their order.
 * Callbacks of different connections run in parallel, so a protocol instance shared by connections must
 * be thread-safe; keep per-connection state in {@link Connection#attach(Object)}.
 *
 * <p><b>Exceptions.</b> A callback that throws is logged once with the connection id, counted, and its
 * connection is closed; the server and the worker go on.
 */
public interface Protocol {

    /** Where a protocol's callbacks run. */
    enum Execution {
        /** On the connection's pinned worker: callbacks may block briefly without stalling I/O. */
        WORKER,
        /** Directly on the connection's I/O event loop: no thread hop; callbacks must never block. */
        IO_LOOP
    }

    /**
     * The service name: {@link Server#each} and {@link Server#count} select connections by it.
     * Called from any thread; must return the same value every time.
     */
    String service();

    /** Where the callbacks run; {@link Execution#WORKER} unless overridden. */
    default Execution execution() {
        return Execution.WORKER;
    }

    /**
     * Adds this protocol's codec handlers to a new connection's pipeline with {@code addLast}: the
     * framework places them after its own handlers and before the handler that calls this protocol,
     * whose {@link #onData} receives what the last codec emits ({@link io.netty.buffer.ByteBuf}s if it
     * adds none). Called on the I/O event loop, once per connection, and again on
     * {@link Connection#switchProtocol}.
     */
    default void initPipeline(ChannelPipeline pipeline) {
    }

    /** A connection was opened (or switched to this protocol). On the connection's executor. */
    default void onOpen(Connection connection) {
    }

    /**
     * A message arrived. On the connection's executor.
     *
     * <p>The framework releases a reference-counted {@code message} when this method returns; to keep
     * it, or to {@link Connection#write write} it back, call {@code retain()} on it first.
     */
    void onData(Connection connection, Object message);

    /**
     * The connection is writable again after its outbound buffer rose over the high water mark; a
     * protocol that paused its producer resumes it here. On the connection's executor.
     */
    default void onReady(Connection connection) {
    }

    /**
     * The server is stopping and the connection is still open: a last chance to say goodbye. When it
     * returns the framework closes the connection after its pending writes. On the connection's executor.
     */
    default void onShutdown(Connection connection) {
    }

    /** The connection has closed; writes are no longer possible. On the connection's executor. */
    default void onClose(Connection connection) {
    }

    /**
     * The connection saw no read, write or {@link Connection#touch()} for its idle timeout. The default
     * closes it; a protocol may send a probe instead, and the timeout starts again. On the connection's
     * executor.
     */
    default void ping(Connection connection) {
        connection.close();
    }
}
