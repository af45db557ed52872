package dev.serverframework.examples.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's soft and hard open-file limits (RLIMIT_NOFILE); {@link Long#MAX_VALUE} is unlimited.
 *
 * @param soft the limit in force
 * @param hard how far the process may raise it
 */
public record OpenFileLimits(long soft, long hard) {
    private static final Logger log = LoggerFactory.getLogger(OpenFileLimits.class);

    /** No limits: what is assumed when they cannot be read. */
    static final OpenFileLimits UNLIMITED = new OpenFileLimits(Long.MAX_VALUE, Long.MAX_VALUE);

    /** The limits of process {@code pid} ("self" for this one) from /proc/PID/limits; null when unreadable. */
    static OpenFileLimits ofProcess(String pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid, "limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return new OpenFileLimits(parse(f[0]), parse(f[1]));
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot read /proc/{}/limits: {}", pid, e.toString());
        }
        return null;
    }

    /** {@code injected} (a test's), else this process's limits, else {@link #UNLIMITED} when unreadable. */
    static OpenFileLimits own(OpenFileLimits injected) {
        OpenFileLimits own = injected != null ? injected : ofProcess("self");
        return own != null ? own : UNLIMITED;
    }

    /** "unlimited" or the number. */
    static String show(long limit) {
        return limit == Long.MAX_VALUE ? "unlimited" : Long.toString(limit);
    }

    private static long parse(String v) {
        return v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v);
    }
}
