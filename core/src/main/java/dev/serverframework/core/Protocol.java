package dev.serverframework.core;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;

/**
 * A protocol: the codec handlers it puts in each connection's pipeline and the callbacks that act on
 * what they decode (the C original's {@code struct Protocol}).
 *
 * <p><b>Threads.</b> {@link #initPipeline} runs on the connection's I/O event loop. Every callback runs
 * on the connection's executor: its pinned {@link Worker} when {@link #execution()} is
 * {@link Execution#WORKER} (the default), or the I/O event loop itself for {@link Execution#IO_LOOP}.
 * Either way the callbacks and tasks of one connection never run concurrently and keep their order.
 * Callbacks of different connections run in parallel, so a protocol instance shared by connections must
 * be thread-safe; keep per-connection state in a {@link Connection#attr connection attribute}.
 *
 * <p><b>Messages.</b> {@code M} is the type of what the protocol's last codec hands on: {@code ByteBuf}
 * without codecs, a {@code String} after a string decoder, a decoded request. The framework passes each
 * message to {@link #onData} as it comes; a codec that emits something else is a programming error that
 * fails the callback (logged, the connection closed).
 *
 * <p><b>Exceptions.</b> A callback that throws is logged once with the connection id, counted, and its
 * connection is closed; the server and the worker go on.
 */
public interface Protocol<M> {

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
    void onData(Connection connection, M message);

    /**
     * A codec found the peer's input longer than its limit and said so with Netty's
     * {@link TooLongFrameException}, fired down the pipeline as {@code LineBasedFrameDecoder} does (a codec
     * should fire it rather than throw it: thrown at the end of the input, it would keep the end-of-input
     * event, and so {@link #onInputClosed}, from the protocol). Every message decoded before it has reached
     * {@link #onData}. The framework has counted it as a protocol error of the connection, once however many
     * follow, and passes on only the first. The default closes after pending writes; a protocol that can
     * tell the peer (an error line, a Redis error) writes that first. On the connection's executor.
     */
    default void onInputTooLong(Connection connection, TooLongFrameException cause) {
        connection.close();
    }

    /**
     * The connection is writable again after its outbound buffer rose over the high water mark; a
     * protocol that paused its producer resumes it here. On the connection's executor.
     */
    default void onReady(Connection connection) {
    }

    /**
     * The peer shut down its output (a half-close: {@code nc -N}, {@code socat}, or a client that sends
     * its last request and then {@code shutdown(SHUT_WR)}): it will send nothing more, but it may still
     * read. Every message it sent before has been delivered to {@link #onData} by now, in order. The
     * default closes the connection after its pending writes; a protocol that still owes answers (an
     * asynchronous one) closes once they are written, and one that streams may keep writing. On the
     * connection's executor.
     */
    default void onInputClosed(Connection connection) {
        connection.close();
    }

    /**
     * The server is stopping and the connection is still open. What the peer has sent, and sends within
     * the server's drain window, is still delivered and answered; the connection then closes after its
     * pending writes, with a lingering close. A protocol that can tell its peer to go (HTTP's
     * {@code Connection: close}) does so on its next answer and closes the connection after it; one with
     * something to say (a goodbye line) writes it here. On the connection's executor, once per connection,
     * before the framework closes it.
     */
    default void onShutdown(Connection connection) {
    }

    /**
     * Whether the protocol still owes the peer an answer on this connection: a request whose handler has
     * not finished (an asynchronous one, say). While it does, neither the idle timeout nor the end of a
     * stop's drain window closes the connection; a protocol that answers {@code true} must close the
     * connection itself once it has answered while the server stops (the grace period bounds it).
     * Default {@code false}. On the connection's executor.
     */
    default boolean isAnswering(Connection connection) {
        return false;
    }

    /**
     * What a client refused over the server's connection limit is told, in this protocol's language (an
     * HTTP 503, a Redis error), or {@code null} for the server's {@link ServerBuilder#busyMessage}. The
     * refusal costs no worker and no protocol state: the answer is written on the I/O loop and the socket
     * closed with a lingering close. Called once when the server starts, on the thread that starts it.
     */
    default BusyAnswer busyAnswer() {
        return null;
    }

    /** The connection has closed; writes are no longer possible. On the connection's executor. */
    default void onClose(Connection connection) {
    }

    /**
     * The connection saw no read, write or {@link Connection#touch()} for its idle timeout, and the
     * protocol is not {@link #isAnswering answering} on it. Output waiting for a peer that does not read
     * is not idleness (the separate write-stall timeout covers it), nor is a pause in reading that the
     * protocol asked for. The default closes; a protocol may send a probe instead, and the timeout starts
     * again. On the connection's executor.
     */
    default void ping(Connection connection) {
        connection.close();
    }
}
