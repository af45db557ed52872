package dev.serverframework.examples.bench;

/**
 * The time line of one {@link StopProbe} run: whether the stop has been asked for, when, and how long is left
 * until the deadline after it. The run's thread starts it ({@link #stopNow()}); every connection's thread reads
 * it.
 */
final class StopClock {
    private final long deadlineNanos;
    private volatile boolean stopped;
    private volatile long stopNanos;

    /** @param deadlineNanos how long after the stop connections may take to end */
    StopClock(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    /** Marks now as the moment of the stop. */
    void stopNow() {
        stopNanos = System.nanoTime();
        stopped = true;
    }

    /** Whether the stop has been asked for. */
    boolean stopped() {
        return stopped;
    }

    /** The deadline ({@link System#nanoTime()}); meaningful once {@link #stopped()}. */
    long deadlineAt() {
        return stopNanos + deadlineNanos;
    }

    /** Nanoseconds left until the deadline; {@link Long#MAX_VALUE} before the stop (there is none yet). */
    long leftNanos() {
        if (!stopped) {
            return Long.MAX_VALUE;
        }
        return deadlineAt() - System.nanoTime();
    }

    /** Milliseconds from the stop to {@code nanos}. */
    double millisSinceStop(long nanos) {
        return (nanos - stopNanos) / 1e6;
    }
}
