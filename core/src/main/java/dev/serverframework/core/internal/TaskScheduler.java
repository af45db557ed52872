package dev.serverframework.core.internal;

import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A server's timed tasks ({@code run_after}, {@code run_every} of the C original), on its workers; a task
 * that throws is counted and logged and keeps its schedule. Thread-safe.
 */
public final class TaskScheduler {
    private static final Logger log = LoggerFactory.getLogger(TaskScheduler.class);

    private final ServerRuntime server;

    /** @param server the runtime whose workers run the tasks */
    public TaskScheduler(ServerRuntime server) {
        this.server = server;
    }

    /** See {@link dev.serverframework.core.Server#runAfter(Duration, Runnable)}. */
    public ScheduledFuture<?> runAfter(Duration delay, Runnable task) {
        Objects.requireNonNull(task, "task");
        return server.workerGroup().next().schedule(guard(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** See {@link dev.serverframework.core.Server#runEvery(Duration, long, Runnable)}. */
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
        ScheduledFuture<?> f = server.workerGroup().next().scheduleAtFixedRate(repeat, nanos, nanos, TimeUnit.NANOSECONDS);
        self.complete(f);
        return f;
    }

    private Runnable guard(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                server.counters().onCallbackFailure();
                log.warn("A scheduled task threw; it keeps its schedule", t);
            }
        };
    }
}
