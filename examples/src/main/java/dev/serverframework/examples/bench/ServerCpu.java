package dev.serverframework.examples.bench;

import dev.serverframework.examples.UsageException;

import java.time.Duration;
import java.util.Optional;

/**
 * A server process's CPU time (user plus system), so that a cell can say how much CPU the server spent on its
 * requests: {@link ProcessHandle.Info#totalCpuDuration()}, which on Linux is the kernel's count in
 * {@code /proc/PID/stat} converted with the system's real clock tick (so 10 ms resolution where the tick is
 * 100 Hz), and works for any process of the same user. Unknown where the platform does not say.
 */
final class ServerCpu {
    private ServerCpu() {
    }

    /** The process's CPU time so far in nanoseconds, -1 when it cannot be read (gone, or not supported here). */
    static long nanos(long pid) {
        return read(pid).map(Duration::toNanos).orElse(-1L);
    }

    /**
     * Checks that {@code pid} names a running process whose CPU time can be read, before any load is sent.
     *
     * @param option the option that gave it, named in the message
     * @throws UsageException saying what is wrong (a usage error)
     */
    static void check(long pid, String option) {
        if (ProcessHandle.of(pid).isEmpty()) {
            throw new UsageException(option + " " + pid + ": no such process");
        }
        if (read(pid).isEmpty()) {
            throw new UsageException(option + " " + pid + ": its CPU time cannot be read (another user's "
                    + "process, or a platform that does not tell)");
        }
    }

    private static Optional<Duration> read(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration());
    }
}
