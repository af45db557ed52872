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
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

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

    private static final VarHandle SLEEPING;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            SLEEPING = lookup.findVarHandle(Worker.class, "sleeping", int.class);
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
    /** Tasks offered after the final drain, until their producers reject them; guarded by itself. */
    private final Set<Runnable> leftBehind = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Set, under the lock of {@link #leftBehind}, once the terminated worker found its queues empty. */
    private boolean drainedForGood;
    private volatile long gracefulDeadlineNanos;
    private volatile long quietPeriodNanos;
    /** When a shutting-down worker last ran a task; only the worker thread touches it. */
    private long lastTaskNanos;

    /** 1 while the thread is parked or about to park; producers unpark only then. */
    @SuppressWarnings("unused")
    private volatile int sleeping;

    /** Kept in its own object, away from the fields producers read on every execute(). */
    private final WorkerStatistics counters = new WorkerStatistics();

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
        Runnable queued = group.measuresWaitTime() ? new TimedTask(task, System.nanoTime()) : task;
        queue.offer(queued);
        if (state == ST_TERMINATED) {
            rejectIfLeftBehind(queued);
        }
        wakeIfSleeping();
    }

    /**
     * Queues a task ahead of the ordinary queue; a worker blocked in {@link #helpUntil} runs it too
     * ({@link Server#eachBlocking} sends its tasks this way). Any thread.
     *
     * @throws RejectedExecutionException when the worker has terminated
     */
    public void executeUrgent(Runnable task) {
        if (state == ST_TERMINATED) {
            throw new RejectedExecutionException("worker " + thread.getName() + " has terminated");
        }
        urgent.offer(task);
        if (state == ST_TERMINATED) {
            rejectIfLeftBehind(task);
        }
        wakeIfSleeping();
    }

    /**
     * For a producer that saw the worker terminate after its offer: the offer may have come after the
     * worker's last drain, and the task would then never run although execute() returned. Rejects it in
     * that case. Only this rare path locks; the queues' Netty/JCTools type cannot remove an element, so
     * the leftovers are taken out (the worker no longer consumes) and each producer claims its own.
     */
    private void rejectIfLeftBehind(Runnable queued) {
        synchronized (leftBehind) {
            if (!drainedForGood) {
                // The worker has not yet confirmed empty queues under this lock: it will find and run it.
                return;
            }
            Runnable r;
            while ((r = urgent.poll()) != null || (r = queue.poll()) != null) {
                leftBehind.add(r);
            }
            if (leftBehind.remove(queued)) {
                throw new RejectedExecutionException("worker " + thread.getName() + " has terminated");
            }
        }
    }

    /**
     * Blocks the worker thread until {@code done} is true, running urgent tasks meanwhile, so that two
     * workers waiting on each other's urgent tasks cannot deadlock. The thread that makes {@code done}
     * true unparks this worker's thread ({@link Server#eachBlocking} waits this way).
     *
     * @throws IllegalStateException when called from another thread than this worker's
     */
    public void helpUntil(BooleanSupplier done) {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("helpUntil must be called on the worker's own thread " + thread.getName());
        }
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
                // No spinning before parking: measured here, spinning on the queue's head made hand-offs
                // slower (cache-line ping-pong with producers) and took a core from the I/O loop.
                sleep();
            }
        } finally {
            state = ST_TERMINATED;
            // The original's final perform_tasks: whatever slipped in before producers saw TERMINATED runs.
            // Empty is confirmed under the lock of rejectIfLeftBehind, so that a producer whose offer
            // comes later knows that no one will run its task.
            for (;;) {
                while (runAvailableTasks()) {
                    // keep draining
                }
                synchronized (leftBehind) {
                    if (hasNoTasks()) {
                        drainedForGood = true;
                        break;
                    }
                }
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
            counters.failed();
            log.warn("A task threw on {}; the worker goes on", thread.getName(), t);
        }
        counters.completed();
    }

    private void recordWait(long nanos) {
        counters.waited(nanos);
        group.taskWaited(nanos);
    }

    private void sleep() {
        SLEEPING.setVolatile(this, 1);
        // Re-check after announcing sleep: a producer that offered before reading SLEEPING saw 0 and
        // will not unpark us, so its task must be visible here.
        if (hasNoTasks()) {
            // Not hasScheduledTasks(): in Netty 4.2 it only tells whether a task is due now, and a worker
            // that parked without a deadline would never wake for a task due later (runAfter, onTick).
            long delay = nextScheduledTaskNano();
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

    /** This worker's counters: tasks run and failed, and their measured waits in the queue. */
    public WorkerStatistics statistics() {
        return counters;
    }

    @Override
    public String toString() {
        return "Worker[" + thread.getName() + "]";
    }

    /** A task stamped with the time it was queued, so the worker can measure its wait. */
    private record TimedTask(Runnable task, long enqueuedNanos) implements Runnable {
        @Override
        public void run() {
            task.run();
        }
    }
}
