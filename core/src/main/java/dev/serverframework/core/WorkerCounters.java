package dev.serverframework.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Statistics of one {@link Worker}, in an object of their own so that counting does not touch the cache
 * line producers read on every {@code execute()}. Only the worker thread writes (opaque stores: no
 * fence on the hot path, and with a single writer no increment is lost); any thread reads.
 */
final class WorkerCounters {
    private static final VarHandle COMPLETED;
    private static final VarHandle FAILED;
    private static final VarHandle WAIT_COUNT;
    private static final VarHandle WAIT_TOTAL;
    private static final VarHandle WAIT_MAX;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            COMPLETED = l.findVarHandle(WorkerCounters.class, "completed", long.class);
            FAILED = l.findVarHandle(WorkerCounters.class, "failed", long.class);
            WAIT_COUNT = l.findVarHandle(WorkerCounters.class, "waitCount", long.class);
            WAIT_TOTAL = l.findVarHandle(WorkerCounters.class, "waitTotalNanos", long.class);
            WAIT_MAX = l.findVarHandle(WorkerCounters.class, "waitMaxNanos", long.class);
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

    long completedCount() {
        return (long) COMPLETED.getOpaque(this);
    }

    long failedCount() {
        return (long) FAILED.getOpaque(this);
    }

    long waitCount() {
        return (long) WAIT_COUNT.getOpaque(this);
    }

    long waitTotalNanos() {
        return (long) WAIT_TOTAL.getOpaque(this);
    }

    long waitMaxNanos() {
        return (long) WAIT_MAX.getOpaque(this);
    }
}
