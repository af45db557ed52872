package dev.serverframework.core.testing;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a worker busy with a task that waits on a gate, so that whatever reaches the worker meanwhile queues
 * behind it, as behind a slow callback.
 */
public final class WorkerGate implements AutoCloseable {
    private final CountDownLatch gate = new CountDownLatch(1);
    private volatile long workNanos;

    private WorkerGate() {
    }

    /** Holds {@code worker}; returns once the holding task runs on it. */
    public static WorkerGate hold(Executor worker) throws InterruptedException {
        WorkerGate g = new WorkerGate();
        CountDownLatch running = new CountDownLatch(1);
        worker.execute(() -> {
            running.countDown();
            try {
                if (g.gate.await(10, TimeUnit.SECONDS)) {
                    // Busy for the time asked, as a task doing real work is: the queue waits behind it.
                    long end = System.nanoTime() + g.workNanos;
                    while (System.nanoTime() - end < 0) {
                        Thread.onSpinWait();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        if (!running.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("the worker never ran the holding task");
        }
        return g;
    }

    /** Lets the worker go at once. */
    public void open() {
        gate.countDown();
    }

    /** Lets the worker go after it has worked {@code busyFor} more: what waits behind it waits that long too. */
    public void open(Duration busyFor) {
        workNanos = busyFor.toNanos();
        gate.countDown();
    }

    /** Lets the worker go if the test did not (a test that failed half-way must not leave it held). */
    @Override
    public void close() {
        gate.countDown();
    }
}
