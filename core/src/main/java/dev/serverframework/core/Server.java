package dev.serverframework.core;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A network server: listening sockets on Netty's native epoll (or NIO), I/O event loops, a
 * {@link WorkerGroup}, and the connections of its protocols (the C original's protocol-server).
 *
 * <pre>{@code
 * Server server = Server.builder().port(8080).protocol(new EchoProtocol()).build();
 * server.start();            // returns when bound
 * server.awaitTermination(); // until stop(), Server.stopAll(), SIGINT or SIGTERM
 * }</pre>
 *
 * <p>Every method is thread-safe. Tasks ({@link #each}, {@link #task}, {@link #runAfter},
 * {@link #runEvery}) never run on the caller's thread unless it says so.
 */
public final class Server {
    private static final Logger log = LoggerFactory.getLogger(Server.class);
    private static final Set<Server> RUNNING = ConcurrentHashMap.newKeySet();

    private enum State { NEW, RUNNING, STOPPING, TERMINATED }

    private final ServerSettings settings;
    private final ServerStatistics statistics = new ServerStatistics();
    private final ConnectionRegistry registry;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** Read by the I/O loops while later listeners are still being bound. */
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    private final AcceptGate acceptGate;
    private WorkerGroup workerGroup;
    private EventLoopGroup ioGroup;
    private Transport transport;
    private Thread shutdownHook;
    private volatile int port = -1;

    Server(ServerSettings settings) {
        this.settings = settings;
        this.registry = new ConnectionRegistry(settings.maxConnections());
        this.acceptGate = new AcceptGate(listeners, OpenFileLimit.maxRefusals(settings.maxConnections()));
    }

    /** Starts building a server. */
    public static ServerBuilder builder() {
        return new ServerBuilder();
    }

    /**
     * Binds the listening sockets and starts the threads; returns once the server accepts connections,
     * after {@code onInit} has run on this thread.
     *
     * @throws IllegalStateException when started twice, when the port cannot be bound, or when the
     *                               settings ask for something this machine cannot do
     */
    public Server start() {
        if (!state.compareAndSet(State.NEW, State.RUNNING)) {
            throw new IllegalStateException("server already started");
        }
        try {
            transport = TransportSupport.resolve(settings.transport());
            if (settings.listeners() > 1 && transport != Transport.EPOLL) {
                throw new IllegalStateException("listeners(" + settings.listeners() + ") needs SO_REUSEPORT, "
                        + "which only the epoll transport offers; the transport here is NIO");
            }
            workerGroup = WorkerGroup.builder()
                    .threads(settings.workers())
                    .namePrefix("sf-worker")
                    .onThreadStart(settings.onThreadStart() == null ? null : w -> settings.onThreadStart().accept(this))
                    .onIdle(settings.onIdle() == null ? null : w -> settings.onIdle().accept(this))
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
            shutdownHook = new Thread(this::stopFromSignal, "sf-shutdown-hook");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        log.info("Listening on {}:{} (transport {}, {} I/O threads, {} workers, {} listener{}, max {} connections)",
                settings.bindAddress().getHostAddress(), port, transport.name().toLowerCase(), settings.ioThreads(),
                settings.workers(), settings.listeners(), settings.listeners() == 1 ? "" : "s",
                settings.maxConnections());
        if (settings.onTick() != null) {
            runEvery(settings.tickPeriod(), 0, () -> settings.onTick().accept(this));
        }
        if (settings.onInit() != null) {
            settings.onInit().accept(this);
        }
        return this;
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
        if (settings.listeners() > 1) {
            b.option(EpollChannelOption.SO_REUSEPORT, true);
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

    /** The bound port (the real one when the setting was 0), or -1 before {@link #start()}. */
    public int port() {
        return port;
    }

    /** The settings this server was built with. */
    public ServerSettings settings() {
        return settings;
    }

    /** The transport in use (EPOLL or NIO), or {@code null} before {@link #start()}. */
    public Transport transport() {
        return transport;
    }

    /** Counters of connections, failures and broadcasts. */
    public ServerStatistics statistics() {
        return statistics;
    }

    /** The worker threads, or {@code null} before {@link #start()}. */
    public WorkerGroup workerGroup() {
        return workerGroup;
    }

    /** The I/O event loops, or {@code null} before {@link #start()}. */
    public EventLoopGroup ioGroup() {
        return ioGroup;
    }

    ConnectionRegistry registry() {
        return registry;
    }

    AcceptGate acceptGate() {
        return acceptGate;
    }

    boolean isAccepting() {
        return state.get() == State.RUNNING;
    }

    /** Whether a stop has begun and not finished. */
    boolean isStopping() {
        return state.get() == State.STOPPING;
    }

    /** Whether the server has started and not yet begun to stop. */
    public boolean isRunning() {
        return state.get() == State.RUNNING;
    }

    // ---- tasks ----

    /**
     * Runs {@code task} once for each open connection of {@code service} (every connection when it is
     * null) except {@code origin}, each on its connection's executor, without waiting. When every task has
     * run, {@code onFinish} runs once on the origin's executor (a worker when there is no origin).
     * Connections that close meanwhile are skipped, not waited for.
     *
     * @param origin   connection to leave out, or {@code null}
     * @param service  service to reach, or {@code null} for all
     * @param task     what to do with each connection
     * @param onFinish run once after all tasks, or {@code null}
     * @return how many connections were targeted
     */
    public int each(Connection origin, String service, Consumer<Connection> task, Runnable onFinish) {
        Objects.requireNonNull(task, "task");
        List<ChannelConnection> targets = registry.select(service, origin);
        statistics.onBroadcast(targets.size());
        Runnable finish = onFinish == null ? null : () -> runFinish(origin, onFinish);
        if (targets.isEmpty()) {
            if (finish != null) {
                finish.run();
            }
            return 0;
        }
        AtomicInteger remaining = new AtomicInteger(targets.size());
        for (ChannelConnection c : targets) {
            Runnable countDown = () -> {
                if (remaining.decrementAndGet() == 0 && finish != null) {
                    finish.run();
                }
            };
            try {
                c.executor().execute(() -> {
                    try {
                        c.runTask(task, null);
                    } finally {
                        countDown.run();
                    }
                });
            } catch (RejectedExecutionException e) {
                countDown.run();
            }
        }
        return targets.size();
    }

    private void runFinish(Connection origin, Runnable onFinish) {
        EventExecutor ex = origin != null ? origin.executor() : workerGroup.next();
        Runnable guarded = () -> {
            try {
                onFinish.run();
            } catch (Throwable t) {
                statistics.onCallbackFailure();
                log.warn("An each() onFinish callback threw", t);
            }
        };
        try {
            ex.execute(guarded);
        } catch (RejectedExecutionException e) {
            guarded.run();
        }
    }

    /**
     * Like {@link #each} but returns only when every task has run. From a worker it runs the tasks of
     * connections pinned to that worker itself and, while it waits for the others, runs the blocking
     * tasks other workers send it, so workers waiting on each other cannot deadlock.
     *
     * @return how many connections were targeted
     * @throws IllegalStateException when called on an I/O event loop, which must never block
     */
    public int eachBlocking(Connection origin, String service, Consumer<Connection> task) {
        Objects.requireNonNull(task, "task");
        if (ioGroup != null) {
            for (EventExecutor loop : ioGroup) {
                if (loop.inEventLoop()) {
                    throw new IllegalStateException("eachBlocking must not be called on an I/O event loop; use each");
                }
            }
        }
        List<ChannelConnection> targets = registry.select(service, origin);
        statistics.onBroadcast(targets.size());
        Worker self = workerGroup.currentWorker();
        Thread waiter = Thread.currentThread();
        AtomicInteger remaining = new AtomicInteger(targets.size());
        CountDownLatch latch = self == null ? new CountDownLatch(1) : null;
        Runnable countDown = () -> {
            if (remaining.decrementAndGet() == 0) {
                if (latch != null) {
                    latch.countDown();
                } else {
                    java.util.concurrent.locks.LockSupport.unpark(waiter);
                }
            }
        };
        for (ChannelConnection c : targets) {
            Runnable run = () -> {
                try {
                    c.runTask(task, null);
                } finally {
                    countDown.run();
                }
            };
            EventExecutor ex = c.executor();
            try {
                if (ex == self) {
                    run.run();
                } else if (ex instanceof Worker w) {
                    w.executeUrgent(run);
                } else {
                    ex.execute(run);
                }
            } catch (RejectedExecutionException e) {
                countDown.run();
            }
        }
        if (targets.isEmpty()) {
            return 0;
        }
        if (self != null) {
            self.helpUntil(() -> remaining.get() == 0);
        } else {
            awaitUninterruptibly(latch);
        }
        return targets.size();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs {@code task} on the connection's executor if the connection with that id is still open, or
     * else {@code fallback} (if not null) on a worker. Never inline, even when called on that executor:
     * the task queues behind what the executor is running (e.g. the callback that submits it).
     */
    public void task(long connectionId, Consumer<Connection> task, Runnable fallback) {
        Objects.requireNonNull(task, "task");
        ChannelConnection c = registry.get(connectionId);
        if (c != null) {
            // Always through the executor's queue, even from the connection's own thread: a task made in a
            // callback runs after that callback (and its writes), never nested inside it.
            try {
                c.executor().execute(() -> c.runTask(task, fallback));
            } catch (RejectedExecutionException e) {
                log.debug("Task for connection {} dropped: its executor has terminated", connectionId);
            }
        } else if (fallback != null) {
            workerGroup.next().execute(fallback);
        }
    }

    /** Runs {@code task} once on a worker after {@code delay}. Cancel it with the returned future. */
    public ScheduledFuture<?> runAfter(Duration delay, Runnable task) {
        Objects.requireNonNull(task, "task");
        return workerGroup.next().schedule(guard(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Runs {@code task} on a worker every {@code period}, {@code repetitions} times (0 = until cancelled
     * or the server stops). Cancel it with the returned future.
     */
    public ScheduledFuture<?> runEvery(Duration period, long repetitions, Runnable task) {
        Objects.requireNonNull(task, "task");
        if (period.isZero() || period.isNegative()) {
            throw new IllegalArgumentException("period must be positive, got " + period);
        }
        if (repetitions < 0) {
            throw new IllegalArgumentException("repetitions must be >= 0 (0 = forever), got " + repetitions);
        }
        AtomicLong left = new AtomicLong(repetitions);
        CompletableFuture<ScheduledFuture<?>> self = new CompletableFuture<>();
        Runnable guarded = guard(task);
        Runnable repeat = () -> {
            if (repetitions == 0) {
                guarded.run();
                return;
            }
            long remaining = left.decrementAndGet();
            if (remaining < 0) {
                return; // a run that came before the cancel below took effect
            }
            guarded.run();
            if (remaining == 0) {
                // The last run may come before schedule() has returned the future: cancel once it has.
                self.thenAccept(f -> f.cancel(false));
            }
        };
        long nanos = period.toNanos();
        ScheduledFuture<?> f = workerGroup.next().scheduleAtFixedRate(repeat, nanos, nanos, TimeUnit.NANOSECONDS);
        self.complete(f);
        return f;
    }

    private Runnable guard(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                statistics.onCallbackFailure();
                log.warn("A scheduled task threw; it keeps its schedule", t);
            }
        };
    }

    /** Open connections of {@code service}, or of all services when it is null. */
    public int count(String service) {
        return registry.count(service);
    }

    // ---- stopping ----

    /**
     * Stops gracefully, without blocking: stops accepting; runs each open connection's
     * {@link Protocol#onShutdown} on its executor; closes each connection, after its pending writes and with
     * a lingering close, once it has been quiet for the {@link ServerBuilder#drainWindow drain window} (at
     * once if it already has), or at the end of the window once what it sent is answered; what is still
     * open after the grace period is cut. Then the workers drain their queues, the event loops are released
     * and {@code onFinish} runs. {@link #awaitTermination()} waits for the end.
     */
    public void stop() {
        if (state.compareAndSet(State.NEW, State.TERMINATED)) {
            terminated.complete(null);
            return;
        }
        if (!state.compareAndSet(State.RUNNING, State.STOPPING)) {
            return;
        }
        Thread stopper = new Thread(this::shutdownSequence, "sf-stop");
        stopper.setDaemon(false);
        stopper.start();
    }

    /** Stops every server of this process that is running. */
    public static void stopAll() {
        for (Server s : List.copyOf(RUNNING)) {
            s.stop();
        }
    }

    /** Blocks until the server has stopped completely. */
    public void awaitTermination() throws InterruptedException {
        try {
            terminated.get();
        } catch (java.util.concurrent.ExecutionException e) {
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
        } catch (java.util.concurrent.ExecutionException e) {
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

    private void shutdownSequence() {
        try {
            new StopSequence(this, listeners, workerGroup, ioGroup).run();
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
        if (settings.onFinish() != null) {
            try {
                settings.onFinish().accept(this);
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

    @Override
    public String toString() {
        return "Server[port " + port + ", " + settings.protocol().service() + "]";
    }
}
