package dev.serverframework.core;

import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The thread pool of the framework: N {@link Worker}s, each one thread with its own lock-free queue.
 *
 * <p>It is a Netty {@link io.netty.util.concurrent.EventExecutorGroup}, so it can run any handler off the
 * I/O loop with {@code pipeline.addLast(workerGroup, handler)}; Netty then pins that pipeline to one
 * worker. {@link #next()} deals workers round-robin. The {@link Server} pins each connection to one
 * worker, so a connection's callbacks and tasks never run concurrently and keep their order.
 *
 * <p>Graceful shutdown runs every task already queued before the threads end.
 */
public final class WorkerGroup extends AbstractEventExecutorGroup {
    private static final Logger log = LoggerFactory.getLogger(WorkerGroup.class);

    private final Worker[] workers;
    private final List<EventExecutor> readOnlyWorkers;
    private final AtomicInteger nextIndex = new AtomicInteger();
    private final Consumer<Worker> onThreadStart;
    private final Consumer<Worker> onIdle;
    private final Promise<Void> terminationFuture = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);
    private volatile boolean measureWaitTime;
    private volatile LongConsumer waitTimeListener;

    private WorkerGroup(Builder b) {
        this.onThreadStart = b.onThreadStart;
        this.onIdle = b.onIdle;
        this.workers = new Worker[b.threads];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i, b.namePrefix + "-" + i);
        }
        this.readOnlyWorkers = List.of(workers);
        AtomicInteger terminated = new AtomicInteger();
        for (Worker w : workers) {
            w.terminationFuture().addListener(f -> {
                if (terminated.incrementAndGet() == workers.length) {
                    terminationFuture.setSuccess(null);
                }
            });
        }
        for (Worker w : workers) {
            w.start();
        }
    }

    /** A group of {@code threads} workers with default names and no callbacks. */
    public static WorkerGroup of(int threads) {
        return builder().threads(threads).build();
    }

    /** Starts building a worker group. */
    public static Builder builder() {
        return new Builder();
    }

    /** The next worker, round-robin. Called from any thread. */
    @Override
    public Worker next() {
        return workers[Math.floorMod(nextIndex.getAndIncrement(), workers.length)];
    }

    /** The workers, in index order. */
    public List<Worker> workers() {
        return List.of(workers);
    }

    /** Number of workers. */
    public int size() {
        return workers.length;
    }

    /**
     * Whether the current thread is one of this group's workers, and which.
     *
     * @return the worker running the current thread, or {@code null}
     */
    public Worker currentWorker() {
        Thread t = Thread.currentThread();
        for (Worker w : workers) {
            if (w.thread() == t) {
                return w;
            }
        }
        return null;
    }

    @Override
    public Iterator<EventExecutor> iterator() {
        return readOnlyWorkers.iterator();
    }

    /**
     * Turns on (or off) measuring how long each task waits in its queue. Off by default: it costs a
     * clock read and a small wrapper per task. The metrics module turns it on.
     */
    public void measureWaitTime(boolean on) {
        this.measureWaitTime = on;
    }

    /**
     * Sets a listener told each measured queue wait, in nanoseconds, on the worker thread that ran the
     * task; setting one turns {@link #measureWaitTime(boolean) measuring} on. It must not block.
     */
    public void waitTimeListener(LongConsumer listener) {
        this.waitTimeListener = listener;
        measureWaitTime(listener != null);
    }

    boolean measuresWaitTime() {
        return measureWaitTime;
    }

    void taskWaited(long nanos) {
        LongConsumer l = waitTimeListener;
        if (l != null) {
            l.accept(nanos);
        }
    }

    void threadStarted(Worker worker) {
        if (onThreadStart != null) {
            try {
                onThreadStart.accept(worker);
            } catch (Throwable t) {
                log.warn("onThreadStart threw on {}", worker.thread().getName(), t);
            }
        }
    }

    void workerIdle(Worker worker) {
        if (onIdle != null) {
            try {
                onIdle.accept(worker);
            } catch (Throwable t) {
                log.warn("onIdle threw on {}", worker.thread().getName(), t);
            }
        }
    }

    /**
     * Shuts every worker down gracefully: each runs all tasks already queued, and those queued until no
     * new task came for {@code quietPeriod}, or until {@code timeout} passed.
     */
    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        for (Worker w : workers) {
            w.shutdownGracefully(quietPeriod, timeout, unit);
        }
        return terminationFuture;
    }

    @Override
    public Future<?> terminationFuture() {
        return terminationFuture;
    }

    /** @deprecated use {@link #shutdownGracefully()}. */
    @Override
    @Deprecated
    public void shutdown() {
        shutdownGracefully(0, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public boolean isShuttingDown() {
        for (Worker w : workers) {
            if (!w.isShuttingDown()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean isShutdown() {
        for (Worker w : workers) {
            if (!w.isShutdown()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean isTerminated() {
        return terminationFuture.isDone();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminationFuture.await(timeout, unit);
    }

    /** Settings of a {@link WorkerGroup}. */
    public static final class Builder {
        private int threads = Runtime.getRuntime().availableProcessors();
        private String namePrefix = "sf-worker";
        private Consumer<Worker> onThreadStart;
        private Consumer<Worker> onIdle;

        private Builder() {
        }

        /** Number of workers, 1 to 1024; default the number of processors. */
        public Builder threads(int threads) {
            this.threads = SettingChecks.range("workers", threads, 1, 1024);
            return this;
        }

        /** Thread names are this prefix, a dash and the worker index. */
        public Builder namePrefix(String prefix) {
            this.namePrefix = Objects.requireNonNull(prefix, "namePrefix");
            return this;
        }

        /** Runs in each worker thread as it starts, before any task (the original's on_init_thread). */
        public Builder onThreadStart(Consumer<Worker> callback) {
            this.onThreadStart = callback;
            return this;
        }

        /** Runs in a worker thread each time it runs out of work, before it sleeps (on_idle). */
        public Builder onIdle(Consumer<Worker> callback) {
            this.onIdle = callback;
            return this;
        }

        /** Starts the threads and returns the group. */
        public WorkerGroup build() {
            return new WorkerGroup(this);
        }
    }
}
