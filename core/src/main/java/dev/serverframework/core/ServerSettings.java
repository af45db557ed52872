package dev.serverframework.core;

import io.netty.handler.ssl.SslContext;

import java.net.InetAddress;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The validated, immutable settings of a {@link Server} (the C original's {@code ServerSettings}). Only
 * {@link ServerBuilder} makes them, so every value has passed its check there; read them from any thread.
 */
public final class ServerSettings {
    private final int port;
    private final InetAddress bindAddress;
    private final int workers;
    private final int ioThreads;
    private final int listeners;
    private final boolean reusePort;
    private final Protocol<?> protocol;
    private final Duration idleTimeout;
    private final int maxConnections;
    private final byte[] busyMessage;
    private final Duration shutdownGrace;
    private final Duration drainWindow;
    private final Duration lingerTimeout;
    private final Duration writeStallTimeout;
    private final Duration tickPeriod;
    private final Transport transport;
    private final int writeBufferLowWaterMark;
    private final int writeBufferHighWaterMark;
    private final SslContext sslContext;
    private final PubSub pubSub;
    private final boolean shutdownHook;
    private final Consumer<Server> onInit;
    private final Consumer<Server> onFinish;
    private final Consumer<Server> onTick;
    private final Consumer<Server> onIdle;
    private final Consumer<Server> onThreadStart;

    /** Copies the builder's checked values; the builder has filled in the defaults that need the machine. */
    ServerSettings(ServerBuilder b, int maxConnections) {
        this.port = b.port;
        this.bindAddress = b.bindAddress;
        this.workers = b.workers;
        this.ioThreads = b.ioThreads;
        this.listeners = b.listeners;
        this.reusePort = b.reusePort || b.listeners > 1;
        this.protocol = b.protocol;
        this.idleTimeout = b.idleTimeout;
        this.maxConnections = maxConnections;
        this.busyMessage = b.busyMessage == null ? null : b.busyMessage.clone();
        this.shutdownGrace = b.shutdownGrace;
        this.drainWindow = b.drainWindow;
        this.lingerTimeout = b.lingerTimeout;
        this.writeStallTimeout = b.writeStallTimeout;
        this.tickPeriod = b.tickPeriod;
        this.transport = b.transport;
        this.writeBufferLowWaterMark = b.writeBufferLowWaterMark;
        this.writeBufferHighWaterMark = b.writeBufferHighWaterMark;
        this.sslContext = b.sslContext;
        this.pubSub = b.pubSub != null ? b.pubSub : PubSub.inProcess();
        this.shutdownHook = b.shutdownHook;
        this.onInit = b.onInit;
        this.onFinish = b.onFinish;
        this.onTick = b.onTick;
        this.onIdle = b.onIdle;
        this.onThreadStart = b.onThreadStart;
    }

    /** TCP port; 0 picks an ephemeral one. */
    public int port() {
        return port;
    }

    /** Address to bind. */
    public InetAddress bindAddress() {
        return bindAddress;
    }

    /** Worker threads. */
    public int workers() {
        return workers;
    }

    /** I/O event-loop threads. */
    public int ioThreads() {
        return ioThreads;
    }

    /** Listening sockets on the same port (SO_REUSEPORT when more than one). */
    public int listeners() {
        return listeners;
    }

    /** Whether the listening sockets take SO_REUSEPORT (asked for, or more than one listener). */
    public boolean reusePort() {
        return reusePort;
    }

    /** Protocol of new connections. */
    public Protocol<?> protocol() {
        return protocol;
    }

    /** Idle timeout of new connections; zero turns it off. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** Open connections allowed at once. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Bytes sent to a connection refused over capacity, or {@code null}. */
    public byte[] busyMessage() {
        return busyMessage == null ? null : busyMessage.clone();
    }

    /** How long a stop waits for connections to close before cutting them. */
    public Duration shutdownGrace() {
        return shutdownGrace;
    }

    /** During a stop, how long a recently active connection is still read for its next message; a connection quiet for longer is closed at once. */
    public Duration drainWindow() {
        return drainWindow;
    }

    /** After a graceful close has shut down output, how long input is still read and discarded (so a late request meets a clean end of stream, not a reset); zero closes at once. */
    public Duration lingerTimeout() {
        return lingerTimeout;
    }

    /** How long output may wait without progress for a peer that does not read before the connection is cut; zero turns it off. */
    public Duration writeStallTimeout() {
        return writeStallTimeout;
    }

    /** Period of {@code onTick}. */
    public Duration tickPeriod() {
        return tickPeriod;
    }

    /** Transport choice before the system property is applied. */
    public Transport transport() {
        return transport;
    }

    /** Bytes under which a connection is writable again. */
    public int writeBufferLowWaterMark() {
        return writeBufferLowWaterMark;
    }

    /** Bytes over which a connection stops being writable. */
    public int writeBufferHighWaterMark() {
        return writeBufferHighWaterMark;
    }

    /** TLS context, or {@code null} for plain TCP. */
    public SslContext sslContext() {
        return sslContext;
    }

    /** The publish/subscribe of this server: the one given, or an in-process one of its own. */
    public PubSub pubSub() {
        return pubSub;
    }

    /** Whether SIGINT/SIGTERM stop the server gracefully. */
    public boolean shutdownHook() {
        return shutdownHook;
    }

    /** After bind, on the thread that called {@link Server#start()}. */
    public Consumer<Server> onInit() {
        return onInit;
    }

    /** After stop, once everything is released. */
    public Consumer<Server> onFinish() {
        return onFinish;
    }

    /** Every {@code tickPeriod}, on a worker. */
    public Consumer<Server> onTick() {
        return onTick;
    }

    /** On a worker thread each time it runs out of work. */
    public Consumer<Server> onIdle() {
        return onIdle;
    }

    /** In each worker thread as it starts. */
    public Consumer<Server> onThreadStart() {
        return onThreadStart;
    }
}
