package dev.serverframework.examples.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Reads a server's {@link ServerSnapshot}: from its Prometheus {@code /metrics} when it has one, and from the
 * outside when its pid is known (resident memory from /proc/PID/status; a JVM's heap from {@code jstat -gc},
 * which reads the counters the JVM publishes and forces nothing). With {@code forceGc}, asks the JVM for a
 * full collection ({@code jcmd PID GC.run}) before each reading, so heap is live memory, not garbage.
 * Blocking; one thread at a time.
 */
final class ServerReadings {
    private static final Logger log = LoggerFactory.getLogger(ServerReadings.class);

    private final HttpClient http;
    private final URI metrics;
    private final Duration timeout;
    private final Long serverPid;
    private final boolean forceGc;

    /**
     * @param target      the server
     * @param metricsPath where it serves Prometheus text
     * @param timeout     for each request to it
     * @param serverPid   its process id, or null when unknown
     * @param forceGc     whether to collect its garbage before each reading (needs {@code serverPid})
     */
    ServerReadings(InetSocketAddress target, String metricsPath, Duration timeout, Long serverPid, boolean forceGc) {
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
        this.metrics = URI.create("http://" + target.getHostString() + ":" + target.getPort() + metricsPath);
        this.timeout = timeout;
        this.serverPid = serverPid;
        this.forceGc = forceGc;
    }

    /** One reading: /metrics, and /proc/PID/status when the pid is known; jstat when there are no metrics. */
    ServerSnapshot read() {
        if (forceGc) {
            fullGc(serverPid);
        }
        String text = null;
        try {
            HttpResponse<String> resp = http.send(HttpRequest.newBuilder(metrics).timeout(timeout).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() == 200 && resp.body().contains("jvm_memory_used_bytes")) {
                text = resp.body();
            }
        } catch (IOException e) {
            log.debug("no metrics at {}: {}", metrics, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        double rss = serverPid == null ? Double.NaN : vmRss(serverPid);
        if (text == null) {
            double[] heapAndGcs = serverPid == null ? null : jstatHeap(serverPid);
            return new ServerSnapshot(heapAndGcs == null ? Double.NaN : heapAndGcs[0], Double.NaN, Double.NaN,
                    heapAndGcs == null ? Double.NaN : heapAndGcs[1], Double.NaN, Double.NaN, Double.NaN, rss);
        }
        return new ServerSnapshot(sum(text, "jvm_memory_used_bytes", "area=\"heap\""),
                sum(text, "jvm_memory_used_bytes", "area=\"nonheap\""),
                sum(text, "netty_allocator_memory_used", null), sum(text, "jvm_gc_pause_seconds_count", null),
                sum(text, "process_files_open_files", null), sum(text, "process_files_max_files", null),
                sum(text, "server_connections_open", null), rss);
    }

    /**
     * The first reading, before the load: it must say something, so a server without {@code /metrics}
     * needs its pid.
     *
     * @throws IllegalArgumentException when the server serves no Prometheus text and its pid is unknown
     */
    ServerSnapshot first(String pidOption) {
        ServerSnapshot s = read();
        if (!s.fromMetrics() && serverPid == null) {
            throw new IllegalArgumentException("the target serves no Prometheus text at " + metrics.getPath()
                    + ": give " + pidOption + " PID so that its resident memory can be read from /proc/PID/status");
        }
        return s;
    }

    /** The server's open-file limit: from /proc/PID/limits when its pid is known, else its metrics; or null. */
    Long maxFiles(ServerSnapshot reading) {
        if (serverPid != null) {
            OpenFileLimits limits = OpenFileLimits.ofProcess(Long.toString(serverPid));
            return limits == null ? null : limits.soft();
        }
        return Double.isNaN(reading.maxFiles()) ? null : (long) reading.maxFiles();
    }

    /** The sum of a Prometheus text sample over its series with {@code label}; NaN when absent. */
    private static double sum(String text, String name, String label) {
        double total = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || !line.startsWith(name)) {
                continue;
            }
            int end = name.length();
            if (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                continue;
            }
            if (label != null && !line.contains(label)) {
                continue;
            }
            int close = line.lastIndexOf('}');
            String value = line.substring(close >= 0 ? close + 1 : end).trim().split("\\s+")[0];
            try {
                total += Double.parseDouble(value);
                found = true;
            } catch (NumberFormatException ignored) {
                // Not a sample line of this metric.
            }
        }
        return found ? total : Double.NaN;
    }

    /** Asks a JVM for a full collection with {@code jcmd PID GC.run}, bounded in time. */
    private static void fullGc(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("jcmd " + pid + " GC.run did not finish within 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("jcmd " + pid + " GC.run failed (exit " + p.exitValue()
                        + "): is the server a JVM of this user?");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + jcmd + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A JVM server's heap in use (bytes) and its GC count, from {@code jstat -gc PID}: it reads the counters
     * the JVM publishes in hsperfdata, so it forces nothing in the server. Null when the server is not a JVM
     * of this user, or jstat is missing.
     */
    private static double[] jstatHeap(long pid) {
        Path jstat = Path.of(System.getProperty("java.home"), "bin", "jstat");
        if (!Files.isExecutable(jstat)) {
            return null;
        }
        try {
            Process p = new ProcessBuilder(jstat.toString(), "-gc", Long.toString(pid)).redirectErrorStream(true)
                    .start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return null;
            }
            String[] lines = text.trim().split("\n");
            List<String> names = Arrays.asList(lines[0].trim().split("\\s+"));
            String[] values = lines[lines.length - 1].trim().split("\\s+");
            double kb = 0;
            for (String used : List.of("S0U", "S1U", "EU", "OU")) {
                kb += Double.parseDouble(values[names.indexOf(used)]);
            }
            double gcs = Double.parseDouble(values[names.indexOf("YGC")])
                    + Double.parseDouble(values[names.indexOf("FGC")]);
            return new double[] {kb * 1024, gcs};
        } catch (IOException | RuntimeException e) {
            log.debug("jstat -gc {} failed: {}", pid, e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** VmRSS of a process in bytes, NaN when unreadable. */
    private static double vmRss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot read /proc/{}/status: {}", pid, e.toString());
        }
        return Double.NaN;
    }
}
