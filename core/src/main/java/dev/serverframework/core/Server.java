package dev.serverframework.core;

import dev.serverframework.core.internal.Broadcasts;
import dev.serverframework.core.internal.ServerRuntime;
import dev.serverframework.core.internal.TaskScheduler;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A network server: listening sockets on Netty's native epoll or io_uring (or NIO), I/O event loops, a
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
    private final ServerRuntime runtime;
    private final Broadcasts broadcasts;
    private final TaskScheduler scheduler;
    private final AtomicBoolean started = new AtomicBoolean();
    /** Subscriptions on this server's workers, ended when it stops. */
    private final Set<Subscription> workerSubscriptions = ConcurrentHashMap.newKeySet();

    Server(ServerSettings settings) {
        this.runtime = new ServerRuntime(this, settings);
        this.broadcasts = new Broadcasts(runtime);
        this.scheduler = new TaskScheduler(runtime);
    }

    /** Starts building a server. */
    public static ServerBuilder builder() {
        return new ServerBuilder();
    }

    /**
     * Binds the listening sockets and starts the threads; returns once the server accepts connections,
     * after {@code onInit} has run on this thread.
     *
     * @throws IllegalStateException when started twice, when the port cannot be bound, when the
     *                               settings ask for something this machine cannot do, or when its
     *                               {@link PubSub} was closed by its last user
     */
    public Server start() {
        if (!started.compareAndSet(false, true)) {
            // Before the pub/sub is counted: a second start must not take a second share of it.
            throw new IllegalStateException("server already started");
        }
        ServerSettings settings = runtime.settings();
        // The pub/sub first, so that a PubSub that cannot start leaves no server listening, and so that the
        // first connection can already publish; it is released with the server, or at once if binding fails.
        settings.pubSub().start();
        // Registered before the server runs: a stop (a signal) right after it is bound still releases it.
        runtime.whenTerminated(() -> {
            workerSubscriptions.forEach(Subscription::cancel);
            settings.pubSub().close();
        });
        try {
            runtime.start();
        } catch (RuntimeException e) {
            settings.pubSub().close(); // a server that never ran does not terminate through finish()
            throw e;
        }
        if (settings.onTick() != null) {
            runEvery(settings.tickPeriod(), 0, () -> settings.onTick().accept(this));
        }
        if (settings.onInit() != null) {
            settings.onInit().accept(this);
        }
        return this;
    }

    /** The bound port (the real one when the setting was 0), or -1 before {@link #start()}. */
    public int port() {
        return runtime.port();
    }

    /** The settings this server was built with. */
    public ServerSettings settings() {
        return runtime.settings();
    }

    /**
     * The transport really in use (EPOLL, IO_URING or NIO, after any fallback), or {@code null} before
     * {@link #start()}.
     */
    public Transport transport() {
        return runtime.transport();
    }

    /** Counters of connections, failures and broadcasts. */
    public ServerStatistics statistics() {
        return runtime.counters();
    }

    /** The worker threads, or {@code null} before {@link #start()}. */
    public WorkerGroup workerGroup() {
        return runtime.workerGroup();
    }

    /** The I/O event loops, or {@code null} before {@link #start()}. */
    public EventLoopGroup ioGroup() {
        return runtime.ioGroup();
    }

    /** Whether the server has started and not yet begun to stop. */
    public boolean isRunning() {
        return runtime.isRunning();
    }

    // ---- tasks ----

    /**
     * Runs {@code task} once for each open connection of {@code service} (every connection when it is
     * null), each on its connection's executor, without waiting. Any thread may call it.
     *
     * @return how many connections were targeted
     * @see #each(Connection, String, Consumer, Runnable)
     */
    public int each(String service, Consumer<Connection> task) {
        return broadcasts.each(null, service, task, null);
    }

    /**
     * Runs {@code task} once for each open connection of {@code service} (every connection when it is
     * null) except {@code origin}, each on its connection's executor, without waiting. Any thread may call
     * it; typically the origin's own callback, to reach everyone else.
     *
     * @return how many connections were targeted
     * @see #each(Connection, String, Consumer, Runnable)
     */
    public int each(Connection origin, String service, Consumer<Connection> task) {
        return broadcasts.each(origin, service, task, null);
    }

    /**
     * Runs {@code task} once for each open connection of {@code service} (every connection when it is
     * null) except {@code origin}, each on its connection's executor, without waiting. When every task has
     * run, {@code onFinish} runs once on the origin's executor (a worker when there is no origin).
     * Connections that close meanwhile are skipped, not waited for. Any thread may call it.
     *
     * <p><b>Order of replies.</b> {@code each} returns at once, so the origin's executor goes on with the
     * origin's next messages while the tasks run elsewhere; {@code onFinish} queues behind them. What
     * {@code onFinish} writes to the origin therefore arrives <em>after</em> the replies to messages the
     * origin sent later (a pipelining client sees the answers out of order). For a request/response protocol
     * that must answer in order, write the reply before calling {@code each}, or (for a connection whose
     * callbacks run on a worker, not on its I/O loop) call {@link #eachBlocking} from the origin's callback
     * and write the reply after it returns.
     *
     * @param origin   connection to leave out, or {@code null}
     * @param service  service to reach, or {@code null} for all
     * @param task     what to do with each connection
     * @param onFinish run once after all tasks, or {@code null}
     * @return how many connections were targeted
     */
    public int each(Connection origin, String service, Consumer<Connection> task, Runnable onFinish) {
        return broadcasts.each(origin, service, task, onFinish);
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
        return broadcasts.eachBlocking(origin, service, task);
    }

    /**
     * Runs {@code task} on the connection's executor if the connection with that id is still open, or
     * else {@code fallback} (if not null) on a worker. Never inline, even when called on that executor:
     * the task queues behind what the executor is running (e.g. the callback that submits it).
     */
    public void task(long connectionId, Consumer<Connection> task, Runnable fallback) {
        broadcasts.task(connectionId, task, fallback);
    }

    /** Runs {@code task} once on a worker after {@code delay}. Cancel it with the returned future. */
    public ScheduledFuture<?> runAfter(Duration delay, Runnable task) {
        return scheduler.runAfter(delay, task);
    }

    /**
     * Runs {@code task} on a worker every {@code period}, {@code repetitions} times (0 = until cancelled
     * or the server stops). Cancel it with the returned future.
     */
    public ScheduledFuture<?> runEvery(Duration period, long repetitions, Runnable task) {
        return scheduler.runEvery(period, repetitions, task);
    }

    // ---- publish/subscribe ----

    /** This server's publish/subscribe ({@link ServerBuilder#pubSub}). */
    public PubSub pubSub() {
        return runtime.settings().pubSub();
    }

    /**
     * Publishes {@code message} on {@code channel} through this server's {@link PubSub}: every subscriber in
     * this process gets it on its executor, and the engine carries it to the other processes (at most once).
     * Never blocks.
     *
     * @param message the bytes, shared with every subscriber: the caller must not change them afterwards
     * @return how many subscribers in this process it was handed to
     */
    public int publish(String channel, byte[] message) {
        return pubSub().publish(channel, message);
    }

    /**
     * Runs {@code task} on one of this server's workers (always the same one, so one message at a time and
     * in the order they arrive) for every message of {@code channel}, from this process or another, until
     * cancelled or the server stops.
     *
     * @throws IllegalStateException before {@link #start()}
     */
    public Subscription subscribe(String channel, Consumer<PubSubMessage> task) {
        WorkerGroup workers = runtime.workerGroup();
        if (workers == null) {
            throw new IllegalStateException("subscribe(channel, task) needs the server's workers: start it first");
        }
        Subscription s = pubSub().subscribe(channel, workers.next(), task);
        workerSubscriptions.add(s);
        return new Subscription() {
            @Override
            public String channel() {
                return s.channel();
            }

            @Override
            public void cancel() {
                s.cancel();
                workerSubscriptions.remove(s);
            }

            @Override
            public boolean isActive() {
                return s.isActive();
            }
        };
    }

    /**
     * Calls {@code handler} on the connection's executor for every message of {@code channel} until the
     * subscription is cancelled or the connection closes: a protocol's SUBSCRIBE. A connection that falls
     * {@link PubSub#MAX_QUEUED_DELIVERIES} messages behind is closed (see {@link PubSub}).
     */
    public Subscription subscribe(Connection connection, String channel,
                                  BiConsumer<Connection, PubSubMessage> handler) {
        return pubSub().subscribe(connection, channel, handler);
    }

    /** Open connections of {@code service}, or of all services when it is null. */
    public int count(String service) {
        return runtime.registry().count(service);
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
        runtime.stop();
    }

    /** Stops every server of this process that is running. */
    public static void stopAll() {
        ServerRuntime.stopAll();
    }

    /** Blocks until the server has stopped completely. */
    public void awaitTermination() throws InterruptedException {
        runtime.awaitTermination();
    }

    /** Blocks until the server has stopped or the timeout passes; true if it stopped. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return runtime.awaitTermination(timeout);
    }

    @Override
    public String toString() {
        return "Server[port " + port() + ", " + settings().protocol().service() + "]";
    }
}
