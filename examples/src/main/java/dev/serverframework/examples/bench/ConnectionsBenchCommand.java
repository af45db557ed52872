package dev.serverframework.examples.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 *
 * <p>The parts: {@link ConnectionsPlan} checks the open-file limits and splits the load, {@link LoadProcess}es
 * hold the connections, {@link ServerReadings} reads the server's memory, and {@link ConnectionsResult} says
 * what was found.
 */
@Command(name = "connections", mixinStandardHelpOptions = true,
        description = {"Holds N idle keep-alive connections, measures latency on a sample of them while all stay "
                + "open, and reports the server's memory per connection.",
                "Run the server with a long idle timeout (httpd: --idle-timeout 0), or it closes idle connections."})
public final class ConnectionsBenchCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ConnectionsBenchCommand.class);

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
            description = "Where results.json and report.html go (default: ${DEFAULT-VALUE}).")
    Path out;

    /** The open-file limits of this process; tests inject low ones. Null: read /proc/self/limits. */
    OpenFileLimits limits;

    /** Runs the benchmark, prints the table; exit status 2 unless every connection was held and answered. */
    @Override
    public Integer call() throws Exception {
        ConnectionsResult r = execute();
        PrintWriter w = spec.commandLine().getOut();
        w.print(r.table());
        w.println("Report: " + out.resolve("report.html").toAbsolutePath() + " and "
                + out.resolve("results.json").toAbsolutePath());
        w.flush();
        return r.opened() == count && r.closedByServer() == 0 && r.sampleErrors() == 0 ? 0 : 2;
    }

    /** Runs the whole test and writes results.json and report.html; returns the result. */
    public ConnectionsResult execute() throws Exception {
        if (forceGc && serverPid == null) {
            throw new ParameterException(spec == null ? new CommandLine(this) : spec.commandLine(),
                    "--gc needs --server-pid (the server's process id, for jcmd)");
        }
        InetSocketAddress to = OptionValues.hostPort(target);
        boolean loopback = to.getAddress().isLoopbackAddress() && to.getAddress().getAddress().length == 4;
        Duration holdFor = OptionValues.duration(hold, "--hold");
        Duration timeoutEach = OptionValues.duration(timeout, "--timeout");
        ServerReadings server = new ServerReadings(to, metricsPath, timeoutEach, serverPid, forceGc);
        ServerSnapshot before = server.first("--server-pid");
        boolean metrics = before.fromMetrics();
        ConnectionsPlan plan = ConnectionsPlan.of(count, perProcess, OpenFileLimits.own(limits),
                server.maxFiles(before), loopback, sourceAddresses, ConnectionsPlan.portsPerAddress());
        List<String> notes = new ArrayList<>(plan.notes());
        if (!metrics) {
            notes.add("the target has no " + metricsPath + ": resident memory is from /proc/" + serverPid
                    + "/status, and heap " + (Double.isNaN(before.heapBytes()) ? "is unknown (not a JVM of this "
                    + "user: jstat cannot read it)" : "from jstat -gc " + serverPid + " (eden+survivors+old in use)"));
        }
        Environment environment = Environment.here("target " + target + (serverPid == null ? "" : " (pid " + serverPid
                + ")"), Environment.commandLine(spec, "bench connections"));
        log.info("opening {} connections to {} from {} load process(es) of at most {} and {} source address(es)",
                count, target, plan.processes(), plan.perProcess(), plan.sourceAddresses());
        Files.createDirectories(out);
        Tally tally = new Tally();
        ServerSnapshot after;
        List<LoadProcess> processes = new ArrayList<>();
        try {
            for (int i = 0, first = 0; i < plan.processes(); i++, first += plan.perProcess()) {
                int n = Math.min(plan.perProcess(), count - first);
                processes.add(LoadProcess.start(i, first, n, plan.sourceAddresses(), target, path, timeoutEach, out));
            }
            // A loopback connect and one response take well under a millisecond; a generous bound anyway.
            long openBoundMs = 30_000 + (long) plan.perProcess() * 2 + timeoutEach.toMillis();
            tally.opened(processes, openBoundMs);
            log.info("{} connections open ({} failed); holding them idle for {} ms", tally.opened, tally.failed,
                    holdFor.toMillis());
            if (!holdFor.isZero()) {
                // The hold is the point of the test: idle connections, nothing to wake up for.
                Thread.sleep(holdFor.toMillis());
            }
            after = server.read();
            tally.sampled(processes, timeoutEach);
            tally.probed(processes, openBoundMs);
        } finally {
            processes.forEach(LoadProcess::close);
        }
        if (Double.isNaN(after.rssBytes())) {
            notes.add(serverPid == null
                    ? "the server's resident memory (RSS) is unknown: pass --server-pid PID (the server's process id) "
                    + "so that it is read from /proc/PID/status"
                    : "the server's resident memory (RSS) is unknown: /proc/" + serverPid + "/status cannot be read; "
                    + "pass the --server-pid of a process this user can see");
        }
        if (tally.closed > 0) {
            notes.add(tally.closed + " connections were closed by the server while held: run it with a long idle "
                    + "timeout (httpd: --idle-timeout 0)");
        }
        long[] sorted = tally.latencies.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        ConnectionsResult r = new ConnectionsResult(target, count, plan.processes(), plan.sourceAddresses(),
                holdFor.toMillis() / 1000.0, tally.opened, tally.failed, tally.firstError, tally.closed,
                tally.errors, tally.probedOk, sorted, before, after, metrics, notes, environment);
        if (forceGc) {
            notes.add("heap readings taken right after a full GC in the server (--gc): live memory only");
        } else if (r.gcBetween()) {
            notes.add("the server ran a GC between the two heap readings: heap per connection includes "
                    + "(or lost) garbage; repeat the run, or give the server a larger young generation");
        }
        Files.writeString(out.resolve("results.json"), r.toJson());
        Files.writeString(out.resolve("report.html"), ConnectionsHtml.of(r));
        return r;
    }

    /** What the load processes report, summed over them, phase by phase. */
    private final class Tally {
        int opened;
        int failed;
        String firstError;
        int closed;
        int errors;
        int probedOk;
        final List<Long> latencies = new ArrayList<>();

        /** Each process reports its opened connections: {@code OPENED <ok> <failed> <first error>}. */
        void opened(List<LoadProcess> processes, long boundMs) throws InterruptedException {
            LoadPhase phase = LoadPhase.await(processes, "OPENED", boundMs);
            opened = phase.ok();
            failed = phase.failed();
            firstError = phase.firstError();
        }

        /**
         * The latency sample, one process at a time, so each sample request is the only one in flight, as on
         * an idle server: {@code SAMPLED <closed> <errors> <latency µs>...}.
         */
        void sampled(List<LoadProcess> processes, Duration timeoutEach) throws IOException, InterruptedException {
            for (LoadProcess p : processes) {
                int share = (int) Math.round((double) sample * p.count() / count);
                p.send("SAMPLE " + share);
                String[] f = p.expect("SAMPLED", 10_000 + share * (timeoutEach.toMillis() + 10));
                closed += Integer.parseInt(f[1]);
                errors += Integer.parseInt(f[2]);
                for (int k = 3; k < f.length; k++) {
                    latencies.add(Long.parseLong(f[k]));
                }
            }
        }

        /** One request on every held connection, all processes at once: {@code PROBED <ok> <closed> <errors>}. */
        void probed(List<LoadProcess> processes, long boundMs) throws IOException, InterruptedException {
            for (LoadProcess p : processes) {
                p.send("PROBE");
            }
            for (LoadProcess p : processes) {
                String[] f = p.expect("PROBED", boundMs);
                probedOk += Integer.parseInt(f[1]);
                closed += Integer.parseInt(f[2]);
                errors += Integer.parseInt(f[3]);
            }
        }
    }
}
