package dev.serverframework.examples.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Callable;

/**
 * {@code bench connections}: C10K and beyond. Opens N concurrent keep-alive connections (one GET on each, so
 * they are real HTTP connections), spread over several 127.0.0.x source addresses and over as many child load
 * processes as the open-file limit needs, holds them idle, then measures request latency on a sample of them
 * while all N stay open, and reports the server's heap (and resident memory) per connection.
 *
 * <p>The server's idle timeout closes idle connections (httpd: 5 s by default): run the server with
 * {@code --idle-timeout 0} (or longer than the hold) for this test. Connections the server closes anyway are
 * counted and reported, not hidden.
 */
@Command(name = "connections", mixinStandardHelpOptions = true,
        description = {"Holds N idle keep-alive connections, measures latency on a sample of them while all stay "
                + "open, and reports the server's memory per connection.",
                "Run the server with a long idle timeout (httpd: --idle-timeout 0), or it closes idle connections."})
public final class ConnectionsBenchCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ConnectionsBenchCommand.class);

    /** Open files a JVM needs besides its sockets (jars, epoll, pipes, logs), with a margin. */
    static final int JVM_HEADROOM = 1000;

    @Spec
    CommandSpec spec;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT",
            description = "The HTTP server, e.g. 127.0.0.1:8080.")
    String target;

    @Option(names = "--count", required = true, paramLabel = "N", description = "Concurrent connections to hold.")
    int count;

    @Option(names = "--path", defaultValue = "/", description = "The path requested (default: ${DEFAULT-VALUE}).")
    String path;

    @Option(names = "--metrics-path", defaultValue = "/metrics",
            description = "Where the target serves Prometheus text (default: ${DEFAULT-VALUE}).")
    String metricsPath;

    @Option(names = "--server-pid", paramLabel = "PID",
            description = "The server's process id, for its resident memory (/proc/PID/status VmRSS) and its "
                    + "open-file limit; needed when the target has no /metrics.")
    Long serverPid;

    @Option(names = "--gc", description = "Before each reading, ask the server's JVM for a full collection "
            + "(jcmd PID GC.run; needs --server-pid), so heap per connection is live memory, not garbage.")
    boolean forceGc;

    @Option(names = "--per-process", defaultValue = "0", paramLabel = "N",
            description = "Connections per load process (default 0: as many as the open-file limit allows).")
    int perProcess;

    @Option(names = "--source-addresses", defaultValue = "8",
            description = "Spread connections to a 127.x target over source addresses 127.0.0.1..N "
                    + "(default: ${DEFAULT-VALUE}; more are used when the ephemeral port range needs it).")
    int sourceAddresses;

    @Option(names = "--sample", defaultValue = "1000",
            description = "Requests for the latency sample, spread over the held connections "
                    + "(default: ${DEFAULT-VALUE}).")
    int sample;

    @Option(names = "--hold", defaultValue = "10s",
            description = "How long the connections stay idle before the latency sample (default: ${DEFAULT-VALUE}).")
    String hold;

    @Option(names = "--timeout", defaultValue = "5s",
            description = "Connect and response timeout (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--out", defaultValue = "bench-results", paramLabel = "DIR",
            description = "Where results.json goes (default: ${DEFAULT-VALUE}).")
    Path out;

    /** The open-file limits of this process; tests inject low ones. Null: read /proc/self/limits. */
    Limits limits;

    /** Soft and hard RLIMIT_NOFILE. */
    public record Limits(long soft, long hard) {
        /** This process's limits from /proc/self/limits (any thread); unlimited when unreadable. */
        static Limits ofProcess(String pid) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", pid, "limits"))) {
                    if (line.startsWith("Max open files")) {
                        String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                        return new Limits(parseLimit(f[0]), parseLimit(f[1]));
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.debug("cannot read /proc/{}/limits: {}", pid, e.toString());
            }
            return null;
        }

        private static long parseLimit(String v) {
            return v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v);
        }
    }

    /** How the connections are split: {@code processes} load processes of at most {@code perProcess} each. */
    record Plan(int processes, int perProcess, int sourceAddresses, List<String> notes) {
    }

    /**
     * Checks the open-file limits up front and splits the load; throws {@link IllegalArgumentException} saying
     * exactly what to change when a limit is too low. {@code serverMaxFiles} is the server's own limit when
     * known (from its /metrics or /proc/PID/limits), else null: a server on this machine started from the
     * same shell has {@code own}'s limits.
     */
    static Plan plan(int count, int perProcessOption, Limits own, Long serverMaxFiles, boolean loopback,
                     int sourceOption, long portsPerAddress) {
        if (count < 1) {
            throw new IllegalArgumentException("--count must be positive, got " + count);
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
        return new Plan(processes, per, sources, notes);
    }

    private static String show(long v) {
        return v == Long.MAX_VALUE ? "unlimited" : Long.toString(v);
    }

    static long portsPerAddress() {
        try {
            String[] r = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return Long.parseLong(r[1]) - Long.parseLong(r[0]) + 1;
        } catch (IOException | RuntimeException e) {
            return 28_232;
        }
    }

    static InetSocketAddress parseHostPort(String hostPort) {
        int c = hostPort.lastIndexOf(':');
        if (c <= 0) {
            throw new IllegalArgumentException("--target must be HOST:PORT, got " + hostPort);
        }
        try {
            return new InetSocketAddress(hostPort.substring(0, c), Integer.parseInt(hostPort.substring(c + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--target must be HOST:PORT, got " + hostPort);
        }
    }

    /** What the server said about itself at one moment; NaN where it did not say. */
    record ServerSnapshot(double heapBytes, double nonHeapBytes, double nettyBytes, double gcCount,
                          double openFiles, double maxFiles, double connectionsOpen, double rssBytes) {
    }

    /** The outcome of one run. */
    public record Result(String target, int count, int processes, int sourceAddresses, double holdSeconds,
                         int opened, int openFailed, String firstError, int closedByServer, int sampleErrors,
                         int probedOk, long[] latenciesMicros, ServerSnapshot before, ServerSnapshot after,
                         boolean metricsAvailable, List<String> notes) {
        double percentile(double p) {
            if (latenciesMicros.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.ceil(p / 100.0 * latenciesMicros.length) - 1;
            return latenciesMicros[Math.max(0, Math.min(latenciesMicros.length - 1, i))] / 1000.0;
        }

        /** Server heap growth per held connection, bytes; NaN if unknown. */
        public double heapPerConnection() {
            return (after.heapBytes() - before.heapBytes()) / Math.max(1, opened);
        }

        /** Server resident memory growth per held connection, bytes; NaN if unknown. */
        public double rssPerConnection() {
            return (after.rssBytes() - before.rssBytes()) / Math.max(1, opened);
        }

        /** Netty allocator growth (pooled buffers) per held connection, bytes; NaN if unknown. */
        public double nettyPerConnection() {
            return (after.nettyBytes() - before.nettyBytes()) / Math.max(1, opened);
        }

        /** True when a GC ran between the two heap readings: the heap figure then mixes in collected garbage. */
        public boolean gcBetween() {
            return !Double.isNaN(before.gcCount()) && after.gcCount() != before.gcCount();
        }
    }

    @Override
    public Integer call() throws Exception {
        Result r = execute();
        PrintWriter w = spec.commandLine().getOut();
        w.print(table(r));
        w.println("Results: " + out.resolve("results.json").toAbsolutePath());
        w.flush();
        return r.opened() == count && r.closedByServer() == 0 && r.sampleErrors() == 0 ? 0 : 2;
    }

    /** Runs the whole test and writes results.json; returns the result. */
    public Result execute() throws Exception {
        if (forceGc && serverPid == null) {
            throw new IllegalArgumentException("--gc needs --server-pid (the server's process id, for jcmd)");
        }
        InetSocketAddress to = parseHostPort(target);
        boolean loopback = to.getAddress().isLoopbackAddress() && to.getAddress().getAddress().length == 4;
        Duration holdFor = HttpBenchCommand.parseDuration(hold, "--hold");
        Duration to1 = HttpBenchCommand.parseDuration(timeout, "--timeout");
        Limits own = limits != null ? limits : Limits.ofProcess("self");
        if (own == null) {
            own = new Limits(Long.MAX_VALUE, Long.MAX_VALUE);
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(to1).build();
        ServerSnapshot before = snapshot(http, to, to1);
        boolean metrics = !Double.isNaN(before.openFiles()) || !Double.isNaN(before.nonHeapBytes());
        if (!metrics && serverPid == null) {
            throw new IllegalArgumentException("the target serves no Prometheus text at " + metricsPath
                    + ": give --server-pid PID so that its resident memory can be read from /proc/PID/status");
        }
        Long serverMax = null;
        if (serverPid != null) {
            Limits sl = Limits.ofProcess(Long.toString(serverPid));
            serverMax = sl == null ? null : sl.soft();
        } else if (!Double.isNaN(before.maxFiles())) {
            serverMax = (long) before.maxFiles();
        }
        Plan plan = plan(count, perProcess, own, serverMax, loopback, sourceAddresses, portsPerAddress());
        List<String> notes = new ArrayList<>(plan.notes());
        if (!metrics) {
            notes.add("the target has no " + metricsPath + ": resident memory is from /proc/" + serverPid
                    + "/status, and heap " + (Double.isNaN(before.heapBytes()) ? "is unknown (not a JVM of this "
                    + "user: jstat cannot read it)" : "from jstat -gc " + serverPid + " (eden+survivors+old in use)"));
        }
        log.info("opening {} connections to {} from {} load process(es) of at most {} and {} source address(es)",
                count, target, plan.processes(), plan.perProcess(), plan.sourceAddresses());
        Files.createDirectories(out);
        List<Worker> workers = new ArrayList<>();
        int opened = 0;
        int failed = 0;
        String firstError = null;
        int closed = 0;
        int sampleErrors = 0;
        int probedOk = 0;
        List<Long> lat = new ArrayList<>();
        ServerSnapshot after;
        try {
            for (int i = 0, first = 0; i < plan.processes(); i++, first += plan.perProcess()) {
                int n = Math.min(plan.perProcess(), count - first);
                workers.add(Worker.start(i, first, n, plan.sourceAddresses(), target, path, to1, out));
            }
            // A loopback connect and one response take well under a millisecond; a generous bound anyway.
            long openBoundMs = 30_000 + (long) plan.perProcess() * 2 + to1.toMillis();
            for (Worker wk : workers) {
                String[] f = wk.expect("OPENED", openBoundMs);
                opened += Integer.parseInt(f[1]);
                failed += Integer.parseInt(f[2]);
                if (firstError == null && !f[3].equals("-")) {
                    firstError = f[3].replace('_', ' ');
                }
            }
            log.info("{} connections open ({} failed); holding them idle for {} ms", opened, failed,
                    holdFor.toMillis());
            if (!holdFor.isZero()) {
                // The hold is the point of the test: idle connections, nothing to wake up for.
                Thread.sleep(holdFor.toMillis());
            }
            after = snapshot(http, to, to1);
            // One worker at a time: each sample request is the only one in flight, as on an idle server.
            for (Worker wk : workers) {
                int share = (int) Math.round((double) sample * wk.count / count);
                wk.send("SAMPLE " + share);
                String[] f = wk.expect("SAMPLED", 10_000 + share * (to1.toMillis() + 10));
                closed += Integer.parseInt(f[1]);
                sampleErrors += Integer.parseInt(f[2]);
                for (int k = 3; k < f.length; k++) {
                    lat.add(Long.parseLong(f[k]));
                }
            }
            for (Worker wk : workers) {
                wk.send("PROBE");
            }
            for (Worker wk : workers) {
                String[] f = wk.expect("PROBED", openBoundMs);
                probedOk += Integer.parseInt(f[1]);
                closed += Integer.parseInt(f[2]);
                sampleErrors += Integer.parseInt(f[3]);
            }
        } finally {
            for (Worker wk : workers) {
                wk.close();
            }
        }
        if (closed > 0) {
            notes.add(closed + " connections were closed by the server while held: run it with a long idle "
                    + "timeout (httpd: --idle-timeout 0)");
        }
        long[] sorted = lat.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        Result r = new Result(target, count, plan.processes(), plan.sourceAddresses(), holdFor.toMillis() / 1000.0,
                opened, failed, firstError, closed, sampleErrors, probedOk, sorted, before, after, metrics, notes);
        if (forceGc) {
            notes.add("heap readings taken right after a full GC in the server (--gc): live memory only");
        } else if (r.gcBetween()) {
            notes.add("the server ran a GC between the two heap readings: heap per connection includes "
                    + "(or lost) garbage; repeat the run, or give the server a larger young generation");
        }
        Files.writeString(out.resolve("results.json"), json(r));
        return r;
    }

    /** Reads the server's /metrics (and /proc/PID/status when --server-pid); forces a GC only with --gc. */
    private ServerSnapshot snapshot(HttpClient http, InetSocketAddress to, Duration timeout) {
        if (forceGc) {
            fullGc(serverPid);
        }
        String text = null;
        try {
            HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create("http://"
                    + to.getHostString() + ":" + to.getPort() + metricsPath)).timeout(timeout).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() == 200 && resp.body().contains("jvm_memory_used_bytes")) {
                text = resp.body();
            }
        } catch (IOException e) {
            log.debug("no metrics from {}: {}", target, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        double rss = Double.NaN;
        if (serverPid != null) {
            rss = vmRss(serverPid);
        }
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

    /** The sum of a Prometheus text sample over its series with {@code label}; NaN when absent. */
    static double sum(String text, String name, String label) {
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
    static void fullGc(long pid) {
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
    static double[] jstatHeap(long pid) {
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
    static double vmRss(long pid) {
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

    /** The terminal table. */
    static String table(Result r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%nbench connections: %s, %,d connections from %d load process(es) and "
                + "%d source address(es), held %.1f s%n", r.target(), r.count(), r.processes(), r.sourceAddresses(),
                r.holdSeconds()));
        row(b, "connections opened", String.format(Locale.ROOT, "%,d of %,d", r.opened(), r.count()));
        row(b, "open failures", r.openFailed() + (r.firstError() == null ? "" : " (first: " + r.firstError() + ")"));
        row(b, "closed by server while held", Integer.toString(r.closedByServer()));
        row(b, "answered the final probe", String.format(Locale.ROOT, "%,d", r.probedOk()));
        row(b, "latency sample", String.format(Locale.ROOT, "%,d requests, %d errors", r.latenciesMicros().length,
                r.sampleErrors()));
        row(b, "latency p50 / p99 / max", String.format(Locale.ROOT, "%.3f / %.3f / %.3f ms", r.percentile(50),
                r.percentile(99), r.percentile(100)));
        row(b, "server heap before / after", mib(r.before().heapBytes()) + " / " + mib(r.after().heapBytes()));
        row(b, "heap per connection", bytes(r.heapPerConnection()) + (r.gcBetween() ? " (a GC ran between)" : ""));
        row(b, "netty buffers per connection", bytes(r.nettyPerConnection()));
        row(b, "server RSS before / after", mib(r.before().rssBytes()) + " / " + mib(r.after().rssBytes()));
        row(b, "RSS per connection", bytes(r.rssPerConnection()));
        if (!Double.isNaN(r.after().openFiles())) {
            row(b, "server open files after", String.format(Locale.ROOT, "%,.0f of %,.0f", r.after().openFiles(),
                    r.after().maxFiles()));
        }
        for (int n : new int[] {100_000, 1_000_000}) {
            row(b, String.format(Locale.ROOT, "%,d connections would need", n), String.format(Locale.ROOT,
                    "heap %s, RSS %s, %,d open files", mib(r.heapPerConnection() * n), mib(r.rssPerConnection() * n),
                    n + JVM_HEADROOM));
        }
        for (String note : r.notes()) {
            b.append("note: ").append(note).append(System.lineSeparator());
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String k, String v) {
        b.append(String.format(Locale.ROOT, "  %-32s %s%n", k, v));
    }

    private static String mib(double v) {
        return Double.isNaN(v) ? "unknown" : String.format(Locale.ROOT, "%,.1f MiB", v / (1024 * 1024));
    }

    private static String bytes(double v) {
        return Double.isNaN(v) ? "unknown" : String.format(Locale.ROOT, "%,.0f B", v);
    }

    static String json(Result r) {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"target\": ").append(Json.quote(r.target())).append(",\n");
        b.append("  \"count\": ").append(r.count()).append(",\n");
        b.append("  \"processes\": ").append(r.processes()).append(",\n");
        b.append("  \"sourceAddresses\": ").append(r.sourceAddresses()).append(",\n");
        b.append("  \"holdSeconds\": ").append(Json.number(r.holdSeconds())).append(",\n");
        b.append("  \"opened\": ").append(r.opened()).append(",\n");
        b.append("  \"openFailed\": ").append(r.openFailed()).append(",\n");
        b.append("  \"firstError\": ").append(Json.quote(r.firstError())).append(",\n");
        b.append("  \"closedByServer\": ").append(r.closedByServer()).append(",\n");
        b.append("  \"sampleErrors\": ").append(r.sampleErrors()).append(",\n");
        b.append("  \"probedOk\": ").append(r.probedOk()).append(",\n");
        b.append("  \"latencySamples\": ").append(r.latenciesMicros().length).append(",\n");
        b.append("  \"p50Ms\": ").append(num(r.percentile(50))).append(",\n");
        b.append("  \"p99Ms\": ").append(num(r.percentile(99))).append(",\n");
        b.append("  \"maxMs\": ").append(num(r.percentile(100))).append(",\n");
        b.append("  \"metricsAvailable\": ").append(r.metricsAvailable()).append(",\n");
        b.append("  \"heapBeforeBytes\": ").append(num(r.before().heapBytes())).append(",\n");
        b.append("  \"heapAfterBytes\": ").append(num(r.after().heapBytes())).append(",\n");
        b.append("  \"heapPerConnectionBytes\": ").append(num(r.heapPerConnection())).append(",\n");
        b.append("  \"gcBetweenReadings\": ").append(r.gcBetween()).append(",\n");
        b.append("  \"nettyPerConnectionBytes\": ").append(num(r.nettyPerConnection())).append(",\n");
        b.append("  \"rssBeforeBytes\": ").append(num(r.before().rssBytes())).append(",\n");
        b.append("  \"rssAfterBytes\": ").append(num(r.after().rssBytes())).append(",\n");
        b.append("  \"rssPerConnectionBytes\": ").append(num(r.rssPerConnection())).append(",\n");
        b.append("  \"serverOpenFilesAfter\": ").append(num(r.after().openFiles())).append(",\n");
        b.append("  \"serverConnectionsOpenAfter\": ").append(num(r.after().connectionsOpen())).append(",\n");
        b.append("  \"notes\": [");
        for (int i = 0; i < r.notes().size(); i++) {
            b.append(i == 0 ? "" : ", ").append(Json.quote(r.notes().get(i)));
        }
        return b.append("]\n}\n").toString();
    }

    /** A JSON number, or null when unknown. */
    private static String num(double d) {
        return Double.isNaN(d) ? "null" : Json.number(d);
    }

    /** One child load process: same Java and class path, {@code bench connections-worker}. */
    private static final class Worker implements AutoCloseable {
        private final Process process;
        private final Writer stdin;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final int index;
        final int count;

        private Worker(Process process, int index, int count) {
            this.process = process;
            this.index = index;
            this.count = count;
            this.stdin = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.US_ASCII))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // The process went away; expect() reports it.
                }
                lines.add("EOF");
            }, "bench-worker-" + index + "-reader");
            reader.setDaemon(true);
            reader.start();
        }

        static Worker start(int index, int first, int n, int sources, String target, String path,
                            Duration timeout, Path out) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-Xmx256m");
            cmd.add("-XX:+UseSerialGC");
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("dev.serverframework.examples.Main");
            cmd.addAll(List.of("bench", "connections-worker", "--target=" + target, "--path=" + path,
                    "--count=" + n, "--first-index=" + first, "--source-addresses=" + sources,
                    "--timeout-ms=" + timeout.toMillis()));
            Process p = new ProcessBuilder(cmd).redirectError(out.resolve("worker-" + index + ".log").toFile())
                    .start();
            return new Worker(p, index, n);
        }

        void send(String command) throws IOException {
            stdin.write(command + "\n");
            stdin.flush();
        }

        /** The next line, which must start with {@code word}, within {@code ms}. */
        String[] expect(String word, long ms) throws InterruptedException {
            String line = lines.poll(ms, TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new IllegalStateException("load process " + index + " did not answer " + word + " within "
                        + ms + " ms");
            }
            if (!line.startsWith(word)) {
                throw new IllegalStateException("load process " + index + " said '" + line + "' instead of "
                        + word + " (exit " + (process.isAlive() ? "-" : process.exitValue())
                        + "; see worker-" + index + ".log)");
            }
            return line.split(" ");
        }

        @Override
        public void close() {
            try {
                send("QUIT");
                stdin.close();
            } catch (IOException ignored) {
                // Already gone.
            }
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
