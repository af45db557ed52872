package dev.serverframework.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;

import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One client connection as the framework manages it (the C original's file descriptor, but with an
 * {@link #id()} that is never reused).
 *
 * <p><b>Threads.</b> Every method may be called from any thread. Writes keep their order whichever
 * thread makes them; for the order between writes of different threads, make them from the connection's
 * {@link #executor()} (a protocol's callbacks and {@link Server#task} tasks already run there).
 */
public interface Connection {

    /** A number unique to this connection for the life of the process; never reused. */
    long id();

    /** The service of the connection's current protocol. */
    String service();

    /** The connection's current protocol. */
    Protocol<?> protocol();

    /**
     * Switches the connection to another protocol: the old protocol's codec handlers are replaced by the
     * new one's (bytes the old codec buffered are handed to the new one), then {@code onOpen} of the new
     * protocol runs, before its first {@code onData}. Messages the old codec already decoded still reach
     * the old protocol. When the peer has ended its input before the switch takes effect, the new
     * protocol's {@link Protocol#onInputClosed} runs too, after the buffered bytes (the old protocol has
     * heard of it as well).
     */
    void switchProtocol(Protocol<?> protocol);

    /** Where this connection's callbacks and tasks run: its pinned worker, or its I/O loop. */
    EventExecutor executor();

    /** The connection's I/O event loop. */
    EventExecutor ioLoop();

    /**
     * The allocator for buffers this connection will write (the channel's: pooled by default), so that a
     * protocol can encode straight into the buffer that goes to the socket. Any thread.
     */
    ByteBufAllocator alloc();

    /** Writes bytes, after every write queued before it. */
    ChannelFuture write(byte[] bytes);

    /** Writes text as UTF-8, after every write queued before it. */
    ChannelFuture write(CharSequence text);

    /**
     * Writes a buffer or any message the pipeline's codecs encode, after every write queued before it.
     * Takes over one reference of a reference-counted message.
     */
    ChannelFuture write(Object message);

    /**
     * Writes a message ahead of every write still queued in the framework (the ones waiting because the
     * peer reads slowly), but never inside a message whose bytes have started to go out.
     */
    ChannelFuture writeUrgent(ByteBuf message);

    /**
     * Sends a whole file: zero-copy ({@code sendfile}) on plain connections, chunked under TLS.
     *
     * @throws java.io.UncheckedIOException when the file cannot be opened
     */
    ChannelFuture sendFile(Path file);

    /**
     * Sends {@code length} bytes of a file from {@code offset}: zero-copy on plain connections, chunked
     * under TLS.
     */
    ChannelFuture sendFile(Path file, long offset, long length);

    /**
     * Closes the connection once every write queued before this call has gone out, gracefully: from now on
     * the peer's input is read and discarded, and after the last write the server shuts down its output and
     * waits (up to the linger timeout) for the peer to close, so that late input cannot turn the close into
     * a reset that destroys the answers. Any thread.
     */
    ChannelFuture close();

    /** Closes the connection now, discarding queued writes. */
    ChannelFuture abort();

    /**
     * Hands the raw channel over: queued writes are flushed, the framework's handlers and the protocol's
     * codecs leave the pipeline (a TLS handler stays), the connection stops counting for the server, and
     * the protocol gets no more callbacks. The future completes with the channel once that is done, on the
     * channel's event loop: add your own handlers in its listener, so no read slips past them.
     */
    Future<Channel> hijack();

    /** Postpones the idle timeout as if the connection had just read something. */
    void touch();

    /** Sets this connection's idle timeout; {@link Duration#ZERO} turns it off. */
    void idleTimeout(Duration timeout);

    /** This connection's idle timeout ({@link Duration#ZERO} when off). */
    Duration idleTimeout();

    /**
     * Stops reading from the peer (back-pressure towards it) until {@link #resumeReading()}. Takes effect
     * on the I/O loop, in call order with {@code resumeReading}; messages already read and decoded are
     * still delivered.
     */
    void pauseReading();

    /** Starts reading from the peer again after {@link #pauseReading()}. */
    void resumeReading();

    /**
     * Whether writes go out without waiting: false while the outbound buffer is over its high water mark
     * or writes wait in the framework's queue. {@link Protocol#onReady} tells when it turns true again.
     */
    boolean isWritable();

    /** Whether a callback or task of this connection is running right now. */
    boolean isBusy();

    /**
     * The {@link System#nanoTime()} at which the I/O loop handed the message now in {@link Protocol#onData} to
     * the protocol, before its wait for the worker: a protocol that times its requests from here counts the
     * time they queued (HTTP's {@code http.server.requests} does). During {@code onData}; elsewhere, the time
     * of the connection's latest message (0 before the first). Called on the connection's executor.
     */
    long receivedNanos();

    /** Whether the connection is still open. */
    boolean isOpen();

    /**
     * The connection's attribute of that key: per-connection state, typed, one slot per key, so that a
     * protocol, the layers under it and the user's handlers each keep their own (Netty's
     * {@link io.netty.util.AttributeMap}, the channel's own). Declare a key once, as a constant:
     * {@code static final AttributeKey<Session> SESSION = AttributeKey.valueOf(MyProtocol.class, "session");}.
     * An attribute is null until set, and outlives a protocol switch.
     */
    <T> Attribute<T> attr(AttributeKey<T> key);

    /** The peer's address. */
    SocketAddress remoteAddress();

    /** The local address the connection was accepted on. */
    SocketAddress localAddress();

    /** Whether the connection is encrypted with TLS. */
    boolean isSecure();

    /** The server this connection belongs to. */
    Server server();

    /**
     * Counts a protocol error (bad input from the peer) against this connection's service; the protocol
     * then answers and closes as its rules say.
     */
    void protocolError(String reason);
}
