package dev.serverframework.examples.bench;

import dev.serverframework.examples.UsageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.serverframework.examples.bench.OpenFileLimits.show;

/**
 * How {@code bench connections} splits its connections: {@code processes} load processes of at most
 * {@code perProcess} connections each, over {@code sourceAddresses} 127.0.0.x addresses; made by {@link #of},
 * which checks the open-file limits and the ephemeral port range first and says exactly what to change when
 * one is too low.
 *
 * @param processes       load processes to start
 * @param perProcess      connections each of them holds at most
 * @param sourceAddresses 127.0.0.x source addresses to spread the connections over (1 = the kernel's choice)
 * @param notes           what the user should know about the limits found, for the report
 */
record ConnectionsPlan(int processes, int perProcess, int sourceAddresses, List<String> notes) {
    /** Open files a JVM needs besides its sockets (jars, epoll, pipes, logs), with a margin. */
    static final int JVM_HEADROOM = 1000;

    /**
     * Checks the open-file limits up front and splits the load; throws {@link IllegalArgumentException} saying
     * exactly what to change when a limit is too low (a runtime error: the machine's, not the command line's;
     * {@code --count} below 1 is a {@link UsageException}). {@code serverMaxFiles} is the server's own limit when
     * known (from its /metrics or /proc/PID/limits), else null: a server on this machine started from the
     * same shell has {@code own}'s limits.
     */
    static ConnectionsPlan of(int count, int perProcessOption, OpenFileLimits own, Long serverMaxFiles,
                              boolean loopback, int sourceOption, long portsPerAddress) {
        if (count < 1) {
            throw new UsageException("--count must be positive, got " + count);
        }
        List<String> notes = new ArrayList<>();
        String limitsText = "soft " + show(own.soft()) + ", hard " + show(own.hard());
        long need = (long) count + JVM_HEADROOM;
        long serverLimit = serverMaxFiles != null ? serverMaxFiles : own.hard();
        if ((serverMaxFiles != null || loopback) && need > serverLimit) {
            String whose = serverMaxFiles != null ? "the server's open-file limit is " + serverMaxFiles
                    : "the open-file limit here is " + limitsText + " (/proc/self/limits), and a server on "
                    + "this machine started from the same shell has the same";
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "--count %d is too high: the server holds all %d connections in one process and needs about "
                            + "%d open files, but %s.%nTo hold them, raise the limit for the server (and this tool) "
                            + "before starting them, to at least %d:%n"
                            + "  - in the shell: ulimit -Hn %d && ulimit -Sn %d   (raising the hard limit needs root)%n"
                            + "  - for logins: '*  hard  nofile  %d' and '*  soft  nofile  %d' in "
                            + "/etc/security/limits.conf, then log in again%n"
                            + "  - for a systemd service: LimitNOFILE=%d;  in Docker: --ulimit nofile=%d:%d%n"
                            + "  - and check fs.nr_open and fs.file-max (sysctl) are above it.%n"
                            + "Or lower --count to %d.",
                    count, count, need, whose, need, need, need, need, need, need, need, need,
                    Math.max(0, serverLimit - JVM_HEADROOM)));
        }
        if (own.hard() <= JVM_HEADROOM + 1) {
            throw new IllegalArgumentException("the open-file limit here is " + limitsText + ": a load process "
                    + "needs about " + JVM_HEADROOM + " files for itself besides its sockets. Raise it with "
                    + "ulimit -Sn (up to the hard limit) or, as root, ulimit -Hn.");
        }
        if (own.soft() < own.hard()) {
            notes.add("the soft open-file limit (" + show(own.soft()) + ") is below the hard one ("
                    + show(own.hard()) + "): Java raises its own soft limit to the hard one, but a non-Java "
                    + "server needs 'ulimit -n " + show(own.hard()) + "' before it starts");
        }
        long canHold = own.hard() - JVM_HEADROOM;
        int per = (int) Math.min(Integer.MAX_VALUE, perProcessOption > 0 ? Math.min(perProcessOption, canHold)
                : canHold);
        if (perProcessOption > canHold) {
            notes.add("--per-process " + perProcessOption + " lowered to " + per + ", what the hard open-file "
                    + "limit " + show(own.hard()) + " allows one process");
        }
        per = Math.min(per, count);
        int processes = (count + per - 1) / per;
        // Each source address has the ephemeral port range to itself; keep 20% of it spare.
        int sources = 1;
        if (loopback) {
            long usable = Math.max(1, portsPerAddress * 8 / 10);
            sources = (int) Math.max(Math.max(1, sourceOption), (count + usable - 1) / usable);
            if (sources > 254) {
                throw new IllegalArgumentException("--count " + count + " needs more than 254 source addresses");
            }
        } else if (count > portsPerAddress * 8 / 10) {
            throw new IllegalArgumentException("--count " + count + " to a remote target from one source address "
                    + "exceeds the ephemeral port range (" + portsPerAddress + " ports, "
                    + "/proc/sys/net/ipv4/ip_local_port_range): widen it with sysctl net.ipv4.ip_local_port_range");
        }
        return new ConnectionsPlan(processes, per, sources, notes);
    }

    /** The size of this machine's ephemeral port range (Linux's default when unreadable). */
    static long portsPerAddress() {
        try {
            String[] r = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return Long.parseLong(r[1]) - Long.parseLong(r[0]) + 1;
        } catch (IOException | RuntimeException e) {
            return 28_232;
        }
    }
}
