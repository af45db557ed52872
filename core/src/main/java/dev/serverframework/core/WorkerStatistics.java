package dev.serverframework.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Counters of one {@link Worker} ({@link Worker#statistics()}), in an object of their own so that counting
 * does not touch the cache line producers read on every {@code execute()}. Only the worker thread writes
 * (opaque stores: no fence on the hot path, and with a single writer no increment is lost); any thread
 * reads, and sees exact but not mutually atomic values.
 */
public final class WorkerStatistics {
    private static final VarHandle COMPLETED;
    private static final VarHandle FAILED;
    private static final VarHandle WAIT_COUNT;
    private static final VarHandle WAIT_TOTAL;
    private static final VarHandle WAIT_MAX;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            COMPLETED = l.findVarHandle(WorkerStatistics.class, "completed", long.class);
            FAILED = l.findVarHandle(WorkerStatistics.class, "failed", long.class);
            WAIT_COUNT = l.findVarHandle(WorkerStatistics.class, "waitCount", long.class);
            WAIT_TOTAL = l.findVarHandle(WorkerStatistics.class, "waitTotalNanos", long.class);
            WAIT_MAX = l.findVarHandle(WorkerStatistics.class, "waitMaxNanos", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long completed;
    private long failed;
    private long waitCount;
    private long waitTotalNanos;
    private long waitMaxNanos;

    void completed() {
        COMPLETED.setOpaque(this, completed + 1);
    }

    void failed() {
        FAILED.setOpaque(this, failed + 1);
    }

    void waited(long nanos) {
        WAIT_COUNT.setOpaque(this, waitCount + 1);
        WAIT_TOTAL.setOpaque(this, waitTotalNanos + nanos);
        if (nanos > waitMaxNanos) {
            WAIT_MAX.setOpaque(this, nanos);
        }
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
}
