package dev.serverframework.core;

import io.netty.handler.ssl.SslContext;

import java.net.InetAddress;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The validated, immutable settings of a {@link Server} (the C original's {@code ServerSettings}).
 * Built by {@link ServerBuilder}; every value has passed its range check.
 *
 * @param port             TCP port; 0 picks an ephemeral one
 * @param bindAddress      address to bind
 * @param workers          worker threads
 * @param ioThreads        I/O event-loop threads
 * @param listeners        listening sockets on the same port (SO_REUSEPORT when more than one)
 * @param protocol         protocol of new connections
 * @param idleTimeout      idle timeout of new connections; zero turns it off
 * @param maxConnections   open connections allowed at once
 * @param busyMessage      bytes sent to a connection refused over capacity, or {@code null}
 * @param shutdownGrace    how long a stop waits for connections to close before cutting them
 * @param drainWindow      during a stop, how long a recently active connection is still read for its
 *                         next message; a connection quiet for longer is closed at once
 * @param lingerTimeout    after a graceful close has shut down output, how long input is still read and
 *                         discarded (so a late request meets a clean end of stream, not a reset); zero
 *                         closes at once
 * @param writeStallTimeout how long output may wait without progress for a peer that does not read
 *                         before the connection is cut; zero turns it off
 * @param tickPeriod       period of {@code onTick}
 * @param transport        transport choice before the system property is applied
 * @param writeBufferLowWaterMark  bytes under which a connection is writable again
 * @param writeBufferHighWaterMark bytes over which a connection stops being writable
 * @param sslContext       TLS context, or {@code null} for plain TCP
 * @param shutdownHook     whether SIGINT/SIGTERM stop the server gracefully
 * @param onInit           after bind, on the thread that called {@link Server#start()}
 * @param onFinish         after stop, once everything is released
 * @param onTick           every {@code tickPeriod}, on a worker
 * @param onIdle           on a worker thread each time it runs out of work
 * @param onThreadStart     in each worker thread as it starts
 */
public record ServerSettings(
        int port,
        InetAddress bindAddress,
        int workers,
        int ioThreads,
        int listeners,
        Protocol<?> protocol,
        Duration idleTimeout,
        int maxConnections,
        byte[] busyMessage,
        Duration shutdownGrace,
        Duration drainWindow,
        Duration lingerTimeout,
        Duration writeStallTimeout,
        Duration tickPeriod,
        Transport transport,
        int writeBufferLowWaterMark,
        int writeBufferHighWaterMark,
        SslContext sslContext,
        boolean shutdownHook,
        Consumer<Server> onInit,
        Consumer<Server> onFinish,
        Consumer<Server> onTick,
        Consumer<Server> onIdle,
        Consumer<Server> onThreadStart) {

    /** The busy message, defensively copied. */
    @Override
    public byte[] busyMessage() {
        return busyMessage == null ? null : busyMessage.clone();
    }
}
