package dev.serverframework.examples.bench;

import org.HdrHistogram.Histogram;

/**
 * What {@code bench broadcast}'s load processes received in one run, from their {@code DRAINED} answers
 * ({@link BroadcastWorker}), one process's or summed over all of them ({@link #plus}).
 *
 * @param open        sockets still open
 * @param complete    sockets that received every message of the run
 * @param deliveries  messages received, over all sockets
 * @param gaps        messages that were not the next of their socket's sequence (one lost, or reordered)
 * @param negative    messages whose send time was after their arrival (the wall clock stepped back)
 * @param untimed     messages too short to carry a send time
 * @param closed      connections the server closed (with a close frame or without), since the start
 * @param closeFrames close frames the server sent, since the start
 * @param pings       pings the server sent (each answered with a pong), since the start
 * @param errors      protocol violations and I/O errors, since the start
 * @param firstMicros when the first message arrived (wall clock, µs), -1 without one
 * @param lastMicros  when the last message arrived, -1 without one
 * @param latency     delivery latencies in microseconds, send time to arrival
 * @param firstError  the first error, or null
 */
record Drained(int open, int complete, long deliveries, long gaps, long negative, long untimed, long closed,
               long closeFrames, long pings, long errors, long firstMicros, long lastMicros, Histogram latency,
               String firstError) {

    /** Nothing yet: what {@link #plus} starts from. */
    static Drained none() {
        return new Drained(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, new Histogram(3), null);
    }

    /** The words of a {@code DRAINED} answer. */
    static Drained parse(String[] f) {
        return new Drained(Integer.parseInt(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3]),
                Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]),
                Long.parseLong(f[8]), Long.parseLong(f[9]), Long.parseLong(f[10]), Long.parseLong(f[11]),
                Long.parseLong(f[12]), BroadcastWorker.decode(f[13]),
                f[14].equals("-") ? null : f[14].replace('_', ' '));
    }

    /** This and {@code o} together. */
    Drained plus(Drained o) {
        Histogram h = new Histogram(3);
        h.add(latency);
        h.add(o.latency);
        return new Drained(open + o.open, complete + o.complete, deliveries + o.deliveries, gaps + o.gaps,
                negative + o.negative, untimed + o.untimed, closed + o.closed, closeFrames + o.closeFrames,
                pings + o.pings, errors + o.errors, earliest(firstMicros, o.firstMicros),
                Math.max(lastMicros, o.lastMicros), h, firstError != null ? firstError : o.firstError);
    }

    private static long earliest(long a, long b) {
        return a < 0 ? b : b < 0 ? a : Math.min(a, b);
    }
}
