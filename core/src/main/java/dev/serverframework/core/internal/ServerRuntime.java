package dev.serverframework.core.internal;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerSettings;
import dev.serverframework.core.Transport;
import dev.serverframework.core.WorkerGroup;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What runs behind a {@link Server}: its state (new, running, stopping, terminated), its threads, its
 * listening sockets, the signal hook, and what its connections share (settings, counters, registry,
 * accept gate). {@link Server} is the face users see; this is what the machinery talks to. Thread-safe.
 */
public final class ServerRuntime {
    private static final Logger log = LoggerFactory.getLogger(ServerRuntime.class);
    private static final Set<ServerRuntime> RUNNING = ConcurrentHashMap.newKeySet();

    private enum State { NEW, RUNNING, STOPPING, TERMINATED }

    private final Server server;
    private final ServerSettings settings;
    private final ServerCounters counters = new ServerCounters();
    private final CallbackRunner callbacks = new CallbackRunner(counters);
    private final ConnectionRegistry registry;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** Read by the I/O loops while later listeners are still being bound. */
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    private final AcceptGate acceptGate;
    private volatile WorkerGroup workerGroup;
    private volatile EventLoopGroup ioGroup;
    private volatile Transport transport;
    private volatile Thread shutdownHook;
    private volatile int port = -1;
    /** Run once the server has stopped, before {@code onFinish}. */
    private final List<Runnable> whenTerminated = new CopyOnWriteArrayList<>();

    /** @param server the face of this runtime, handed to callbacks that take a {@link Server} */
    public ServerRuntime(Server server, ServerSettings settings) {
        this.server = server;
        this.settings = settings;
        this.registry = new ConnectionRegistry(settings.maxConnections());
        this.acceptGate = new AcceptGate(listeners, OpenFileLimit.maxRefusals(settings.maxConnections()));
    }

    /** Stops every server of this process that is running. */
    public static void stopAll() {
        for (ServerRuntime s : List.copyOf(RUNNING)) {
            s.stop();
        }
    }

    /**
     * Starts the threads and binds the listeners; returns once connections are accepted.
     *
     * @throws IllegalStateException when started twice, when a port cannot be bound, or when the settings
     *                               ask for something this machine cannot do
     */
    public void start() {
        if (!state.compareAndSet(State.NEW, State.RUNNING)) {
            throw new IllegalStateException("server already started");
        }
        try {
            transport = TransportSupport.resolve(settings.transport());
            if (settings.reusePort() && transport == Transport.NIO) {
                throw new IllegalStateException((settings.listeners() > 1 ? "listeners(" + settings.listeners() + ")"
                        : "reusePort(true)") + " needs SO_REUSEPORT, which only the native transports (epoll, "
                        + "io_uring) offer; the transport here is NIO");
            }
            workerGroup = WorkerGroup.builder()
                    .threads(settings.workers())
                    .namePrefix("sf-worker")
                    .onThreadStart(settings.onThreadStart() == null ? null : w -> settings.onThreadStart().accept(server))
                    .onIdle(settings.onIdle() == null ? null : w -> settings.onIdle().accept(server))
                    .build();
            ioGroup = new MultiThreadIoEventLoopGroup(settings.ioThreads(), new DefaultThreadFactory("sf-io"),
                    TransportSupport.ioHandlerFactory(transport));
            bind();
        } catch (RuntimeException e) {
            state.set(State.TERMINATED);
            releaseThreads();
            terminated.complete(null);
            throw e;
        }
        RUNNING.add(this);
        if (settings.shutdownHook()) {
            Thread hook = new Thread(this::stopFromSignal, "sf-shutdown-hook");
            shutdownHook = hook;
            Runtime.getRuntime().addShutdownHook(hook);
        }
        log.info("Listening on {}:{} (transport {}, {} I/O threads, {} workers, {} listener{}, max {} connections)",
                settings.bindAddress().getHostAddress(), port, transport.name().toLowerCase(Locale.ROOT),
                settings.ioThreads(), settings.workers(), settings.listeners(), settings.listeners() == 1 ? "" : "s",
                settings.maxConnections());
    }

    private void bind() {
        ServerBootstrap b = new ServerBootstrap()
                .group(ioGroup)
                .channel(TransportSupport.serverChannelClass(transport))
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new AcceptFailureHandler(acceptGate))
                .childOption(ChannelOption.TCP_NODELAY, true)
                // The peer's end of input is an event, not the end of the connection: its replies still go out.
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(
                        settings.writeBufferLowWaterMark(), settings.writeBufferHighWaterMark()))
                .childHandler(new ServerChannelInitializer(this));
        if (settings.reusePort()) {
            // The one option object of Netty's Unix transports: epoll's and io_uring's listeners both take it.
            b.option(UnixChannelOption.SO_REUSEPORT, true);
        }
        int bindPort = settings.port();
        for (int i = 0; i < settings.listeners(); i++) {
            Channel ch;
            try {
                ch = b.bind(new InetSocketAddress(settings.bindAddress(), bindPort)).syncUninterruptibly().channel();
            } catch (Exception e) {
                throw new IllegalStateException("cannot bind " + settings.bindAddress().getHostAddress() + ":"
                        + bindPort + ": " + e.getMessage(), e);
            }
            listeners.add(ch);
            bindPort = ((InetSocketAddress) ch.localAddress()).getPort();
        }
        port = bindPort;
    }

    /**
     * Runs {@code action} once the server has stopped (threads released), before {@code onFinish}; for what a
     * server holds beyond its threads. Register before {@link #start()} returns.
     */
    public void whenTerminated(Runnable action) {
        whenTerminated.add(action);
    }

    /** Begins a graceful stop on a thread of its own (see {@link StopSequence}); returns at once. */
    public void stop() {
        if (state.compareAndSet(State.NEW, State.TERMINATED)) {
            terminated.complete(null);
            return;
        }
        if (!state.compareAndSet(State.RUNNING, State.STOPPING)) {
            return;
        }
        Thread stopper = new Thread(this::stopSequence, "sf-stop");
        stopper.setDaemon(false);
        stopper.start();
    }

    /** Blocks until the server has stopped completely. */
    public void awaitTermination() throws InterruptedException {
        try {
            terminated.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Blocks until the server has stopped or the timeout passes; true if it stopped. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        try {
            terminated.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private void stopFromSignal() {
        shutdownHook = null;
        log.info("Signal received; stopping the server on port {}", port);
        stop();
        try {
            awaitTermination(settings.shutdownGrace().plusSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stopSequence() {
        try {
            new StopSequence(this, listeners).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            log.error("Error while stopping the server on port {}", port, t);
        } finally {
            finish();
        }
    }

    private void finish() {
        RUNNING.remove(this);
        Thread hook = shutdownHook;
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the JVM is exiting; the hook runs or has run
            }
        }
        for (Runnable action : whenTerminated) {
            try {
                action.run();
            } catch (RuntimeException e) {
                log.warn("Releasing a resource of the server on port {} failed: {}", port, e.toString());
            }
        }
        if (settings.onFinish() != null) {
            try {
                settings.onFinish().accept(server);
            } catch (Throwable t) {
                log.warn("onFinish threw", t);
            }
        }
        state.set(State.TERMINATED);
        log.info("Server on port {} stopped", port);
        terminated.complete(null);
    }

    private void releaseThreads() {
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
        if (ioGroup != null) {
            ioGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    // ---- what connections and tasks share ----

    /** The server this runtime runs. */
    public Server server() {
        return server;
    }

    /** The server's settings. */
    public ServerSettings settings() {
        return settings;
    }

    /** The server's counters. */
    public ServerCounters counters() {
        return counters;
    }

    /** Runs the connections' callbacks and tasks. */
    CallbackRunner callbacks() {
        return callbacks;
    }

    /** The open connections. */
    public ConnectionRegistry registry() {
        return registry;
    }

    AcceptGate acceptGate() {
        return acceptGate;
    }

    /** The worker threads, or {@code null} before start. */
    public WorkerGroup workerGroup() {
        return workerGroup;
    }

    /** The I/O event loops, or {@code null} before start. */
    public EventLoopGroup ioGroup() {
        return ioGroup;
    }

    /** The transport in use, or {@code null} before start. */
    public Transport transport() {
        return transport;
    }

    /** The bound port, or -1 before start. */
    public int port() {
        return port;
    }

    /** Whether new connections are admitted: running, not yet stopping. */
    public boolean isRunning() {
        return state.get() == State.RUNNING;
    }

    /** Whether a stop has begun and not finished. */
    boolean isStopping() {
        return state.get() == State.STOPPING;
    }
}
