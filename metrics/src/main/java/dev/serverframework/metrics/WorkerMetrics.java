package dev.serverframework.metrics;

import dev.serverframework.core.Worker;
import dev.serverframework.core.WorkerGroup;
import dev.serverframework.core.WorkerStatistics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A {@link WorkerGroup}, per worker (tag {@code worker}, its index):
 * <ul>
 *   <li>{@code server.worker.queue.depth} (gauge: tasks waiting now);</li>
 *   <li>{@code server.worker.tasks.completed} and {@code server.worker.tasks.failed} (counters);</li>
 *   <li>{@code server.worker.task.wait} (timer: time tasks waited in the queue, count and total).</li>
 * </ul>
 * Everything is read from the counters each worker keeps anyway (a {@link FunctionTimer} over
 * {@link WorkerStatistics#measuredWaits()} and {@link WorkerStatistics#totalWaitNanos()}), so binding adds nothing to a task
 * but the queue-wait clock reads, which it turns on with {@link WorkerGroup#measureWaitTime(boolean)}.
 * Thread-safe.
 */
public final class WorkerMetrics implements MeterBinder {
    private final WorkerGroup group;
    private final Tags tags;

    /** @param tags tags added to every meter */
    public WorkerMetrics(WorkerGroup group, Iterable<Tag> tags) {
        this.group = Objects.requireNonNull(group, "group");
        this.tags = Tags.of(tags);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        group.measureWaitTime(true);
        for (Worker w : group.workers()) {
            Tags t = tags.and("worker", Integer.toString(w.index()));
            Gauge.builder("server.worker.queue.depth", w, Worker::queueDepth)
                    .description("Tasks waiting in the worker's queue").tags(t).register(registry);
            WorkerStatistics s = w.statistics();
            FunctionCounter.builder("server.worker.tasks.completed", s, WorkerStatistics::completedTasks)
                    .description("Tasks the worker has run, including those that threw").tags(t).register(registry);
            FunctionCounter.builder("server.worker.tasks.failed", s, WorkerStatistics::failedTasks)
                    .description("Tasks that threw").tags(t).register(registry);
            FunctionTimer.builder("server.worker.task.wait", s, WorkerStatistics::measuredWaits,
                            WorkerStatistics::totalWaitNanos,
                            TimeUnit.NANOSECONDS)
                    .description("Time tasks waited in the worker's queue").tags(t).register(registry);
        }
    }
}
