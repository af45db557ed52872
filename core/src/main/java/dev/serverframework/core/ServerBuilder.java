package dev.serverframework.core;

import dev.serverframework.core.internal.OpenFileLimit;
import io.netty.handler.ssl.SslContext;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

import static dev.serverframework.core.SettingChecks.range;

/**
 * Builds a {@link Server}, and is the one place its settings are checked: every setting has a default
 * except the protocol, and a value out of range fails at once with a message that names the setting and
 * the range. Not thread-safe: use from one thread.
 */
public final class ServerBuilder {
    static final int AUTO = 0;

    // Package-private: ServerSettings copies them, and nothing else can make one.

    int port = 8080;
    InetAddress bindAddress;
    int workers = Runtime.getRuntime().availableProcessors();
    int ioThreads = Runtime.getRuntime().availableProcessors();
    int listeners = 1;
    boolean reusePort;
    Protocol<?> protocol;
    Duration idleTimeout = Duration.ofSeconds(5);
    int maxConnections = AUTO;
    byte[] busyMessage;
    Duration shutdownGrace = Duration.ofSeconds(5);
    Duration drainWindow = Duration.ofSeconds(1);
    Duration lingerTimeout = Duration.ofSeconds(2);
    Duration writeStallTimeout = Duration.ofSeconds(60);
    Duration tickPeriod = Duration.ofSeconds(1);
    Transport transport = Transport.AUTO;
    int writeBufferLowWaterMark = 32 * 1024;
    int writeBufferHighWaterMark = 64 * 1024;
    SslContext sslContext;
    PubSub pubSub;
    boolean shutdownHook = true;
    Consumer<Server> onInit;
    Consumer<Server> onFinish;
    Consumer<Server> onTick;
    Consumer<Server> onIdle;
    Consumer<Server> onThreadStart;

    ServerBuilder() {
        try {
            bindAddress = InetAddress.getByAddress(new byte[4]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** TCP port, 0 to 65535; 0 picks an ephemeral port ({@link Server#port()} tells which). Default 8080. */
    public ServerBuilder port(int port) {
        this.port = range("port", port, 0, 65535);
        return this;
    }

    /** Address to bind; default all IPv4 interfaces (0.0.0.0). */
    public ServerBuilder bindAddress(InetAddress address) {
        this.bindAddress = Objects.requireNonNull(address, "bindAddress");
        return this;
    }

    /** Address to bind, by name or literal, e.g. "127.0.0.1". */
    public ServerBuilder bindAddress(String host) {
        try {
            return bindAddress(InetAddress.getByName(Objects.requireNonNull(host, "bindAddress")));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bindAddress '" + host + "' does not resolve", e);
        }
    }

    /** Worker threads for protocol callbacks, 1 to 1024; default the number of processors. */
    public ServerBuilder workers(int workers) {
        this.workers = range("workers", workers, 1, 1024);
        return this;
    }

    /** I/O event-loop threads, 1 to 1024; default the number of processors. */
    public ServerBuilder ioThreads(int ioThreads) {
        this.ioThreads = range("ioThreads", ioThreads, 1, 1024);
        return this;
    }

    /**
     * Listening sockets on the one port, 1 to 64 (the original's "processes"); more than one uses
     * SO_REUSEPORT so the kernel spreads new connections, and needs a native transport (epoll or io_uring):
     * on NIO the server fails to start.
     */
    public ServerBuilder listeners(int listeners) {
        this.listeners = range("listeners", listeners, 1, 64);
        return this;
    }

    /**
     * Whether the listening sockets take SO_REUSEPORT even when there is only one, so that other processes
     * that set it too bind the same port and the kernel spreads connections over them all (several instances
     * on one machine, sharing their channels through a {@link PubSub} over Redis). Needs a native transport
     * (epoll or io_uring). Default false; {@link #listeners} above 1 sets it anyway.
     */
    public ServerBuilder reusePort(boolean reusePort) {
        this.reusePort = reusePort;
        return this;
    }

    /** The protocol of new connections. Required. */
    public ServerBuilder protocol(Protocol<?> protocol) {
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        return this;
    }

    /** Idle timeout of new connections, 0 (off) to 24 hours; default 5 seconds. */
    public ServerBuilder idleTimeout(Duration timeout) {
        this.idleTimeout = range("idleTimeout", timeout, Duration.ZERO, Duration.ofHours(24));
        return this;
    }

    /**
     * Open connections allowed at once, 1 to 10,000,000; default derived from the process's open-file
     * limit minus a reserve for the server's own files.
     */
    public ServerBuilder maxConnections(int max) {
        this.maxConnections = range("maxConnections", max, 1, 10_000_000);
        return this;
    }

    /**
     * Sent at once, then the connection closed, to a client over {@link #maxConnections} when the protocol
     * has no {@link Protocol#busyAnswer() answer of its own}; default none (the refused socket is just
     * closed, with a lingering close).
     */
    public ServerBuilder busyMessage(String message) {
        this.busyMessage = message == null ? null : message.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    /** How long a stop waits for connections to finish, 0 to 1 hour; default 5 seconds. */
    public ServerBuilder shutdownGrace(Duration grace) {
        this.shutdownGrace = range("shutdownGrace", grace, Duration.ZERO, Duration.ofHours(1));
        return this;
    }

    /**
     * During a stop, how long a connection that was active within this window is still read for its next
     * message (HTTP answers it with {@code Connection: close}); a connection quiet for longer is closed at
     * once, and one still sending at the end is closed after what it sent is answered. 0 to 1 minute;
     * default 1 second. The {@link #shutdownGrace grace period} bounds it.
     */
    public ServerBuilder drainWindow(Duration window) {
        this.drainWindow = range("drainWindow", window, Duration.ZERO, Duration.ofMinutes(1));
        return this;
    }

    /**
     * How long a graceful close reads and discards the peer's input after shutting down output, until
     * the peer closes its side: data arriving at a socket closed with unread input makes the kernel send
     * a reset, which can destroy the answer the peer has not read yet (nginx's {@code lingering_close}).
     * 0 (close at once) to 1 minute; default 2 seconds.
     */
    public ServerBuilder lingerTimeout(Duration timeout) {
        this.lingerTimeout = range("lingerTimeout", timeout, Duration.ZERO, Duration.ofMinutes(1));
        return this;
    }

    /**
     * How long a connection may have output pending without any of it being taken by the peer before it
     * is cut (nginx's {@code send_timeout}). A peer that stops reading is stalled, not idle: the idle
     * timeout does not close it while its output waits. 0 (off) to 24 hours; default 60 seconds.
     */
    public ServerBuilder writeStallTimeout(Duration timeout) {
        this.writeStallTimeout = range("writeStallTimeout", timeout, Duration.ZERO, Duration.ofHours(24));
        return this;
    }

    /** Period of {@link #onTick}, 1 ms to 1 hour; default 1 second. */
    public ServerBuilder tickPeriod(Duration period) {
        this.tickPeriod = range("tickPeriod", period, Duration.ofMillis(1), Duration.ofHours(1));
        return this;
    }

    /**
     * Transport; default {@link Transport#AUTO}. The system property {@value Transport#PROPERTY} overrides
     * it (see {@link Transport}).
     */
    public ServerBuilder transport(Transport transport) {
        this.transport = Objects.requireNonNull(transport, "transport");
        return this;
    }

    /**
     * Write-buffer water marks in bytes: over {@code high} a connection stops being writable, under
     * {@code low} it is writable again and {@link Protocol#onReady} runs. 1 &lt;= low &lt;= high &lt;= 64 MiB;
     * default 32 KiB and 64 KiB.
     */
    public ServerBuilder writeBufferWaterMarks(int low, int high) {
        range("writeBufferHighWaterMark", high, 1, 64 << 20);
        range("writeBufferLowWaterMark", low, 1, high);
        this.writeBufferLowWaterMark = low;
        this.writeBufferHighWaterMark = high;
        return this;
    }

    /** TLS for every connection: an {@code SslHandler} first in each pipeline. */
    public ServerBuilder tls(SslContext context) {
        if (context != null && context.isClient()) {
            throw new IllegalArgumentException("tls needs a server SslContext, got a client one");
        }
        this.sslContext = context;
        return this;
    }

    /**
     * The publish/subscribe this server's {@link Server#publish} and {@link Server#subscribe} use: pass one
     * {@link PubSub} to several servers to share its channels (and its engine's links), or one over a Redis
     * engine to reach other processes. Default: an in-process one of this server's own.
     */
    public ServerBuilder pubSub(PubSub pubSub) {
        this.pubSub = Objects.requireNonNull(pubSub, "pubSub");
        return this;
    }

    /** Whether SIGINT/SIGTERM stop the server gracefully; default true. */
    public ServerBuilder shutdownHook(boolean install) {
        this.shutdownHook = install;
        return this;
    }

    /** Runs after the server is bound, on the thread that called {@link Server#start()}. */
    public ServerBuilder onInit(Consumer<Server> callback) {
        this.onInit = callback;
        return this;
    }

    /** Runs once after the server has stopped and released its threads. */
    public ServerBuilder onFinish(Consumer<Server> callback) {
        this.onFinish = callback;
        return this;
    }

    /** Runs every {@link #tickPeriod}, on a worker. */
    public ServerBuilder onTick(Consumer<Server> callback) {
        this.onTick = callback;
        return this;
    }

    /** Runs on a worker thread each time it runs out of work, before it sleeps. Must be cheap. */
    public ServerBuilder onIdle(Consumer<Server> callback) {
        this.onIdle = callback;
        return this;
    }

    /** Runs in each worker thread as it starts, before it runs any task. */
    public ServerBuilder onThreadStart(Consumer<Server> callback) {
        this.onThreadStart = callback;
        return this;
    }

    /**
     * The settings as they stand: the one way to make {@link ServerSettings}, so none escapes these
     * checks.
     *
     * @throws IllegalArgumentException when no protocol is set
     */
    public ServerSettings settings() {
        if (protocol == null) {
            throw new IllegalArgumentException("protocol must be set (the protocol of new connections)");
        }
        return new ServerSettings(this, maxConnections == AUTO ? OpenFileLimit.defaultMaxConnections() : maxConnections);
    }

    /** Builds the server; {@link Server#start()} binds it. */
    public Server build() {
        return new Server(settings());
    }
}
