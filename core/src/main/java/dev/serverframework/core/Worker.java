package dev.serverframework.core;

import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.OrderedEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker of a {@link WorkerGroup}: a single thread that drains its own lock-free multi-producer
 * queue, in order, and sleeps when the queue is empty.
 *
 * <p>Producers wake the thread (one {@code unpark}) only when it sleeps; while it is busy, handing it
 * a task is one lock-free queue insertion. Scheduled tasks follow Netty's contract: they run on this
 * thread, in deadline order, and are cancelled when the worker shuts down.
 *
 * <p>All methods are thread-safe unless they say otherwise. Statistics are read from any thread and
 * are exact but not atomic with each other.
 */
public final class Worker extends AbstractScheduledEventExecutor implements OrderedEventExecutor {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private static final int ST_RUNNING = 0;
    private static final int ST_SHUTTING_DOWN = 1;
    private static final int ST_TERMINATED = 2;

    /** How often the worker polls for new work before parking; parking costs a futex wait and wake. */
    private static final int SPINS_BEFORE_PARK = 64;

    private static final VarHandle SLEEPING;
    private static final VarHandle COMPLETED;
    private static final VarHandle FAILED;
    private static final VarHandle WAIT_COUNT;
    private static final VarHandle WAIT_TOTAL;
    private static final VarHandle WAIT_MAX;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            SLEEPING = lookup.findVarHandle(Worker.class, "sleeping", int.class);
            COMPLETED = lookup.findVarHandle(Worker.class, "completedTasks", long.class);
            FAILED = lookup.findVarHandle(Worker.class, "failedTasks", long.class);
            WAIT_COUNT = lookup.findVarHandle(Worker.class, "waitCount", long.class);
            WAIT_TOTAL = lookup.findVarHandle(Worker.class, "waitTotalNanos", long.class);
            WAIT_MAX = lookup.findVarHandle(Worker.class, "waitMaxNanos", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final WorkerGroup group;
    private final int index;
    private final Queue<Runnable> queue = PlatformDependent.newMpscQueue();
    /** Tasks of {@link Server#eachBlocking}: run first, and by a worker that waits in one itself. */
    private final Queue<Runnable> urgent = PlatformDependent.newMpscQueue();
    private final Thread thread;
    private final Promise<Void> terminationFuture = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);

    private volatile int state = ST_RUNNING;
    private volatile long gracefulDeadlineNanos;
    private volatile long quietPeriodNanos;

    /** 1 while the thread is parked or about to park; producers unpark only then. */
    @SuppressWarnings("unused")
    private volatile int sleeping;

    // Written only by the worker thread (opaque stores), read by anyone.
    @SuppressWarnings("unused")
    private long completedTasks;
    @SuppressWarnings("unused")
    private long failedTasks;
    @SuppressWarnings("unused")
    private long waitCount;
    @SuppressWarnings("unused")
    private long waitTotalNanos;
    @SuppressWarnings("unused")
    private long waitMaxNanos;

    Worker(WorkerGroup group, int index, String threadName) {
        super(group);
        this.group = group;
        this.index = index;
        this.thread = new FastThreadLocalThread(this::runLoop, threadName);
    }

    void start() {
        thread.start();
    }

    /** Position of this worker in its group, from 0. */
    public int index() {
        return index;
    }

    /** The thread this worker runs on. */
    public Thread thread() {
        return thread;
    }

    @Override
    public WorkerGroup parent() {
        return group;
    }

    @Override
    public boolean inEventLoop(Thread t) {
        return t == thread;
    }

    /**
     * Queues a task to run on this worker's thread after every task queued before it. Called from any
     * thread; never blocks.
     *
     * @throws RejectedExecutionException once the worker has terminated
     */
    @Override
    public void execute(Runnable task) {
        if (task == null) {
            throw new NullPointerException("task");
        }
        if (state == ST_TERMINATED) {
            throw new RejectedExecutionException("worker " + thread.getName() + " has terminated");
        }
        queue.offer(group.measuresWaitTime() ? new TimedTask(task, System.nanoTime()) : task);
        wakeIfSleeping();
    }

    /** Queues a task ahead of the ordinary queue; a worker blocked in {@link #helpUntil} runs it too. */
    void executeUrgent(Runnable task) {
        if (state == ST_TERMINATED) {
            throw new RejectedExecutionException("worker " + thread.getName() + " has terminated");
        }
        urgent.offer(task);
        wakeIfSleeping();
    }

    /**
     * Blocks the worker thread until {@code done} is true, running urgent tasks meanwhile, so that two
     * workers waiting on each other's urgent tasks cannot deadlock. The thread that makes {@code done}
     * true unparks this worker's thread. On this worker's thread only.
     */
    void helpUntil(java.util.function.BooleanSupplier done) {
        while (!done.getAsBoolean()) {
            Runnable task = urgent.poll();
            if (task != null) {
                runOne(task);
                continue;
            }
            SLEEPING.setVolatile(this, 1);
            if (urgent.isEmpty() && !done.getAsBoolean()) {
                LockSupport.parkNanos(this, 1_000_000);
            }
            SLEEPING.setVolatile(this, 0);
        }
    }

    private boolean hasNoTasks() {
        return queue.isEmpty() && urgent.isEmpty();
    }

    private void wakeIfSleeping() {
        if ((int) SLEEPING.getVolatile(this) == 1 && SLEEPING.compareAndSet(this, 1, 0)) {
            LockSupport.unpark(thread);
        }
    }

    private void runLoop() {
        group.threadStarted(this);
        try {
            for (;;) {
                if (runAvailableTasks()) {
                    if (state != ST_RUNNING) {
                        lastTaskNanos = System.nanoTime();
                    }
                    continue;
                }
                if (state != ST_RUNNING && confirmShutdown()) {
                    break;
                }
                group.workerIdle(this);
                if (!spinForWork()) {
                    sleep();
                }
            }
        } finally {
            state = ST_TERMINATED;
            // The original's final perform_tasks: whatever slipped in before producers saw TERMINATED runs.
            while (runAvailableTasks()) {
                // keep draining
            }
            terminationFuture.setSuccess(null);
        }
    }

    /** Runs queued tasks and due scheduled tasks; returns whether it ran any. */
    private boolean runAvailableTasks() {
        boolean ran = false;
        Runnable task;
        while ((task = urgent.poll()) != null || (task = queue.poll()) != null) {
            runOne(task);
            ran = true;
        }
        if (hasScheduledTasks()) {
            long now = getCurrentTimeNanos();
            while ((task = pollScheduledTask(now)) != null) {
                runOne(task);
                ran = true;
            }
        }
        return ran;
    }

    private void runOne(Runnable task) {
        if (task instanceof TimedTask timed) {
            recordWait(System.nanoTime() - timed.enqueuedNanos);
            task = timed.task;
        }
        try {
            task.run();
        } catch (Throwable t) {
            FAILED.setOpaque(this, (long) FAILED.getOpaque(this) + 1);
            log.warn("A task threw on {}; the worker goes on", thread.getName(), t);
        }
        COMPLETED.setOpaque(this, (long) COMPLETED.getOpaque(this) + 1);
    }

    private void recordWait(long nanos) {
        WAIT_COUNT.setOpaque(this, (long) WAIT_COUNT.getOpaque(this) + 1);
        WAIT_TOTAL.setOpaque(this, (long) WAIT_TOTAL.getOpaque(this) + nanos);
        if (nanos > (long) WAIT_MAX.getOpaque(this)) {
            WAIT_MAX.setOpaque(this, nanos);
        }
        group.taskWaited(nanos);
    }

    /** A short bounded spin: a producer that is about to hand over the next task need not wake us. */
    private boolean spinForWork() {
        for (int i = 0; i < SPINS_BEFORE_PARK; i++) {
            if (!hasNoTasks()) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    private void sleep() {
        SLEEPING.setVolatile(this, 1);
        // Re-check after announcing sleep: a producer that offered before reading SLEEPING saw 0 and
        // will not unpark us, so its task must be visible here.
        if (hasNoTasks()) {
            long delay = hasScheduledTasks() ? nextScheduledTaskNano() : -1;
            if (state != ST_RUNNING) {
                long untilQuiet = Math.max(0, quietPeriodNanos - (System.nanoTime() - lastTaskNanos));
                delay = delay < 0 ? untilQuiet : Math.min(delay, untilQuiet);
            }
            if (delay < 0) {
                LockSupport.park(this);
            } else if (delay > 0) {
                LockSupport.parkNanos(this, delay);
            }
        }
        SLEEPING.setVolatile(this, 0);
    }

    /** When a shutting-down worker last ran a task; only the worker thread touches it. */
    private long lastTaskNanos;

    /**
     * Decides, on the worker thread, whether a shutting-down worker may stop: its queue is empty, and
     * either the quiet period passed without new tasks or the graceful timeout ran out.
     */
    private boolean confirmShutdown() {
        cancelScheduledTasks();
        long now = System.nanoTime();
        if (lastTaskNanos == 0) {
            lastTaskNanos = now;
        }
        if (!hasNoTasks()) {
            return false;
        }
        return now - lastTaskNanos >= quietPeriodNanos || now - gracefulDeadlineNanos >= 0;
    }

    /**
     * Starts a graceful shutdown: tasks already queued, and tasks queued during the quiet period, still
     * run; scheduled tasks are cancelled. Called from any thread.
     */
    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        if (quietPeriod < 0 || timeout < quietPeriod) {
            throw new IllegalArgumentException(
                    "quietPeriod must be >= 0 and timeout >= quietPeriod; got " + quietPeriod + ", " + timeout);
        }
        synchronized (this) {
            if (state == ST_RUNNING) {
                quietPeriodNanos = unit.toNanos(quietPeriod);
                gracefulDeadlineNanos = System.nanoTime() + unit.toNanos(timeout);
                state = ST_SHUTTING_DOWN;
            }
        }
        SLEEPING.setVolatile(this, 0);
        LockSupport.unpark(thread);
        return terminationFuture;
    }

    @Override
    public Future<?> terminationFuture() {
        return terminationFuture;
    }

    /** @deprecated use {@link #shutdownGracefully()}; this one skips the quiet period. */
    @Override
    @Deprecated
    public void shutdown() {
        shutdownGracefully(0, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public boolean isShuttingDown() {
        return state != ST_RUNNING;
    }

    @Override
    public boolean isShutdown() {
        return state == ST_TERMINATED;
    }

    @Override
    public boolean isTerminated() {
        return terminationFuture.isDone();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        if (inEventLoop()) {
            throw new IllegalStateException("a worker cannot wait for its own termination");
        }
        return terminationFuture.await(timeout, unit);
    }

    /** Tasks waiting in the queue right now (scheduled tasks not yet due are not counted). */
    public int queueDepth() {
        return queue.size() + urgent.size();
    }

    /** Tasks run so far, including those that threw. */
    public long completedTasks() {
        return (long) COMPLETED.getOpaque(this);
    }

    /** Tasks that threw. */
    public long failedTasks() {
        return (long) FAILED.getOpaque(this);
    }

    /** Tasks whose wait in the queue was measured (see {@link WorkerGroup#measureWaitTime(boolean)}). */
    public long measuredWaits() {
        return (long) WAIT_COUNT.getOpaque(this);
    }

    /** Sum of the measured waits in the queue, in nanoseconds. */
    public long totalWaitNanos() {
        return (long) WAIT_TOTAL.getOpaque(this);
    }

    /** Longest measured wait in the queue, in nanoseconds. */
    public long maxWaitNanos() {
        return (long) WAIT_MAX.getOpaque(this);
    }

    @Override
    public String toString() {
        return "Worker[" + thread.getName() + "]";
    }

    /** A task stamped with the time it was queued, so the worker can measure its wait. */
    private static final class TimedTask implements Runnable {
        final Runnable task;
        final long enqueuedNanos;

        TimedTask(Runnable task, long enqueuedNanos) {
            this.task = task;
            this.enqueuedNanos = enqueuedNanos;
        }

        @Override
        public void run() {
            task.run();
        }
    }
}
