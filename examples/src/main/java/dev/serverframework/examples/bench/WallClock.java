package dev.serverframework.examples.bench;

import java.time.Instant;

/**
 * Microseconds since the epoch by the system's wall clock: the send time a {@code bench broadcast} message
 * carries from the server to the load processes. {@code System.nanoTime()} cannot time a message from one
 * JVM to another, as each JVM counts it from an origin of its own; the wall clock (CLOCK_REALTIME on Linux,
 * read without a system call, with microsecond resolution or better) is one clock for every process of a
 * machine. Between machines it is only as good as their clock synchronisation, and a step of the clock
 * during a run shows as inflated latencies or negative ones, which the load processes count.
 */
final class WallClock {
    private WallClock() {
    }

    /** Now, in microseconds since 1970-01-01T00:00Z. Any thread. */
    static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }
}
