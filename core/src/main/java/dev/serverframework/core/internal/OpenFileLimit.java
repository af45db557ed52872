package dev.serverframework.core.internal;

import com.sun.management.UnixOperatingSystemMXBean;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/** The process's open-file limit, and the connection capacity derived from it. */
public final class OpenFileLimit {
    /** Files kept for the server's own use: listeners, epoll, JAR files, logs, pipes. */
    static final int MIN_RESERVE = 64;
    /** Used when the JVM cannot tell the limit (not a Unix system). */
    static final int FALLBACK_LIMIT = 4096;

    private OpenFileLimit() {
    }

    /** The soft limit on open files (RLIMIT_NOFILE) as the JVM sees it. */
    static long current() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return FALLBACK_LIMIT;
    }

    /**
     * How many refused connections may be answered at once: half the files the limit leaves beside
     * {@code maxConnections} and the files open now (at least 4), so refusals leave room for the
     * connections being accepted meanwhile and for the server's own files.
     */
    static int maxRefusals(int maxConnections) {
        long headroom = Math.min(current(), 10_000_000L) - maxConnections - open();
        return (int) Math.max(4, headroom / 2);
    }

    /** Files the process has open now, or 0 when the JVM cannot tell. */
    static long open() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix
                ? Math.max(0, unix.getOpenFileDescriptorCount()) : 0;
    }

    /** The limit minus a reserve of 5% (at least {@value #MIN_RESERVE} files). */
    public static int defaultMaxConnections() {
        long limit = Math.min(current(), 10_000_000L);
        long reserve = Math.max(MIN_RESERVE, limit / 20);
        return (int) Math.max(1, limit - reserve);
    }
}
