package dev.serverframework.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A server process's CPU time, from {@code /proc/PID/stat}: user plus system time (fields 14 and 15), so that
 * a cell can say how much CPU the server spent on its requests. Linux only; elsewhere the time is unknown.
 */
final class ServerCpu {
    /** USER_HZ, the unit of /proc's tick counts: 100 on every Linux architecture a JVM runs on. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private ServerCpu() {
    }

    /** The process's CPU time so far in nanoseconds (10 ms resolution), -1 when it cannot be read. */
    static long nanos(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        // f[0] is field 3 (state), so utime (14) and stime (15) are f[11] and f[12].
        if (f.length < 13) {
            return -1;
        }
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK;
    }
}
