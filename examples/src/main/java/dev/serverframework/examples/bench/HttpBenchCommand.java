package dev.serverframework.examples.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code bench http}: a matrix of modes (keep-alive, close) × concurrency levels, each cell a warm-up then
 * a measured run; every response validated; a table at the end and {@code results.json} + {@code report.html}
 * in {@code --out}.
 */
@Command(name = "http", mixinStandardHelpOptions = true,
        description = "HTTP/1.1 load: keep-alive vs close at several concurrency levels, every response checked.")
public final class HttpBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--target", paramLabel = "URL",
            description = "The URL to request, e.g. http://127.0.0.1:8080/ (not with --server, which requests "
                    + "its own child).")
    String target;

    @Option(names = "--server", paramLabel = "NAME",
            description = "Start this server in a child JVM for the run and stop it at the end: httpd.")
    String server;

    @Option(names = "--server-option", paramLabel = "ARG",
            description = "An option for the --server child, repeatable, e.g. --server-option=--mode=io.")
    List<String> serverOptions = new ArrayList<>();

    @Option(names = "--rate", defaultValue = "0", paramLabel = "R",
            description = "Constant total rate in requests/s per cell, latency measured from the intended send "
                    + "time (as wrk2 does); 0 = closed loop, as fast as responses come (default).")
    double rate;

    @Option(names = "--modes", split = ",", defaultValue = "keepalive,close",
            description = "Modes to run: keepalive, close (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = {"-c", "--connections"}, split = ",", defaultValue = "1,32,256",
            description = "Concurrency levels: concurrent connections, each one request at a time "
                    + "(default: ${DEFAULT-VALUE}).")
    List<Integer> connections;

    @Option(names = {"-d", "--duration"}, defaultValue = "10s",
            description = "Measured time per cell, e.g. 10s, 500ms, 1m (default: ${DEFAULT-VALUE}).")
    String duration;

    @Option(names = "--warmup", defaultValue = "2s",
            description = "Unrecorded warm-up before each cell (default: ${DEFAULT-VALUE}).")
    String warmup;

    @Option(names = "--timeout", defaultValue = "5s",
            description = "A connect or a response slower than this counts as a timeout (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--threads", description = "Client event-loop threads (default: the number of cores).")
    Integer threads;

    @Option(names = "--expect-status", defaultValue = "200",
            description = "The status every response must have (default: ${DEFAULT-VALUE}).")
    int expectStatus;

    @Option(names = "--expect-body", description = "The exact body every response must have.")
    String expectBody;

    @Option(names = "--source-addresses", defaultValue = "16",
            description = "Close mode against a 127.x target binds its connections round-robin to this many "
                    + "source addresses 127.0.0.1..N, so TIME_WAIT does not exhaust local ports "
                    + "(default: ${DEFAULT-VALUE}; 1 = kernel's choice).")
    int sourceAddresses;

    @Option(names = "--out", defaultValue = "bench-results", paramLabel = "DIR",
            description = "Where results.json and report.html go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--compare", paramLabel = "FILE",
            description = "A results.json of an earlier run to show beside this one, under the label stored in "
                    + "it (made unique if it clashes); repeatable; checked before the run.")
    List<Path> compare = new ArrayList<>();

    @Option(names = "--label", paramLabel = "NAME",
            description = "This run's name in the report and in later --compare (default: the --server name, or "
                    + "the target's host:port).")
    String label;

    @Option(names = "--server-pid", paramLabel = "PID",
            description = "The target server's process id, to report its CPU time per request (checked before "
                    + "the run; with --server, the child's is known).")
    Long serverPid;

    @Option(names = "--no-progress", negatable = false, description = "No live progress line.")
    boolean noProgress;

    /**
     * Runs the matrix and prints the table; exit status 2 when any request failed, 1 when the target cannot be
     * reached at all.
     */
    @Override
    public Integer call() throws Exception {
        Report report;
        try {
            report = execute();
        } catch (Target.CannotConnectException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 1;
        }
        PrintWriter outw = spec.commandLine().getOut();
        outw.println();
        outw.print(report.table());
        outw.println("Report: " + out.resolve("report.html").toAbsolutePath()
                + " and " + out.resolve("results.json").toAbsolutePath());
        outw.flush();
        long errors = report.cells().stream().mapToLong(CellResult::errorTotal).sum();
        return errors == 0 ? 0 : 2;
    }

    /**
     * Runs the whole matrix and writes the report files; returns the report. Every option, {@code --server-pid}
     * and every {@code --compare} file is checked before a child server starts or any load is sent.
     */
    public Report execute() throws Exception {
        Settings settings = settings();
        Target t = null;
        String runLabel;
        if (server == null) {
            if (target == null) {
                throw usage("give --target URL, or --server httpd");
            }
            t = Target.parse(target);
            runLabel = label != null ? label : t.address().getHostString() + ":" + t.address().getPort();
            if (serverPid != null) {
                ServerCpu.check(serverPid, "--server-pid");
            }
        } else {
            if (serverPid != null) {
                throw usage("--server-pid and --server cannot be given together: the --server child's pid is known");
            }
            if (target != null) {
                // Which server would be measured is ambiguous: the child, or whatever --target points at.
                throw usage("--server and --target cannot be given together: --server starts its own httpd and "
                        + "requests it; to measure another server, give --target alone");
            }
            if (!server.equals("httpd")) {
                throw usage("--server knows httpd only, got " + server);
            }
            runLabel = label != null ? label : server;
        }
        List<Report> previous = compared(runLabel);
        if (t != null) {
            return execute(t, settings, runLabel, previous, serverPid, "target " + t.url());
        }
        try (ChildServer child = ChildServer.startHttpd(serverOptions, out,
                OptionValues.duration(timeout, "--timeout").plusSeconds(20))) {
            return execute(Target.parse("http://127.0.0.1:" + child.port() + "/"), settings, runLabel, previous,
                    child.pid(), String.join(" ", child.command()));
        }
    }

    /** The run's options as values. */
    private record Settings(List<HttpLoad.Mode> modes, Duration duration, Duration warmup, Duration timeout) {
    }

    /** The options checked and parsed (a usage error saying which is wrong). */
    private Settings settings() {
        List<HttpLoad.Mode> modeList = new ArrayList<>();
        for (String m : modes) {
            modeList.add(HttpLoad.Mode.parse(m));
        }
        for (int c : connections) {
            if (c < 1) {
                throw usage("--connections must be positive, got " + c);
            }
        }
        Duration d = OptionValues.duration(duration, "--duration");
        if (d.isZero()) {
            throw usage("--duration must be more than 0");
        }
        return new Settings(modeList, d, OptionValues.duration(warmup, "--warmup"),
                OptionValues.duration(timeout, "--timeout"));
    }

    /**
     * The {@code --compare} runs, read and checked (a usage error naming a file that is not a bench http
     * results.json), each under a label no other run of the report has: a label that clashes gets the file as
     * given (directory and name), then its start time, then a number.
     */
    private List<Report> compared(String runLabel) {
        List<Report> previous = new ArrayList<>();
        Set<String> taken = new HashSet<>();
        taken.add(runLabel);
        for (Path file : compare) {
            Report r = Report.read(file);
            String name = r.label();
            if (taken.contains(name)) {
                name = r.label() + " (" + ResultsJson.shortName(file) + ")";
            }
            if (taken.contains(name)) {
                name = r.label() + " (" + r.startedAt() + ")";
            }
            for (int i = 2; taken.contains(name); i++) {
                name = r.label() + " #" + i;
            }
            taken.add(name);
            previous.add(name.equals(r.label()) ? r : r.withLabel(name));
        }
        return previous;
    }

    /**
     * What makes a compared run not like for like with this one: a different rate, duration or set of modes.
     * A different target is not: comparing servers (--label nginx) is what --compare is for. Empty when none.
     */
    static List<String> comparisonWarnings(String runLabel, double rate, double durationSeconds, Set<String> modes,
                                           List<Report> previous) {
        List<String> w = new ArrayList<>();
        for (Report r : previous) {
            List<String> diffs = new ArrayList<>();
            if (r.rate() != rate) {
                diffs.add(String.format(Locale.ROOT, "rate %s vs %s", rateText(r.rate()), rateText(rate)));
            }
            if (Math.abs(r.durationSeconds() - durationSeconds) > 1e-9) {
                diffs.add(String.format(Locale.ROOT, "duration %.1f s vs %.1f s", r.durationSeconds(), durationSeconds));
            }
            Set<String> theirModes = new TreeSet<>(HtmlReport.modes(r));
            if (!theirModes.equals(new TreeSet<>(modes))) {
                diffs.add("modes " + String.join(",", theirModes) + " vs " + String.join(",", new TreeSet<>(modes)));
            }
            if (!diffs.isEmpty()) {
                w.add("compared run " + r.label() + " differs from " + runLabel + ": " + String.join("; ", diffs)
                        + ": its figures are not like for like.");
            }
        }
        return w;
    }

    private static String rateText(double rate) {
        return rate > 0 ? String.format(Locale.ROOT, "%.0f/s", rate) : "closed loop";
    }

    /** A usage error: picocli prints it with the usage and exits with status 2. */
    private ParameterException usage(String message) {
        return new ParameterException(spec == null ? new picocli.CommandLine(this) : spec.commandLine(), message);
    }

    /**
     * Runs the matrix against {@code t}.
     *
     * @param runLabel   this run's label ({@code --label}, or the default)
     * @param previous   the compared runs, read and labelled
     * @param pid        the server's process id for its CPU time, or null
     * @param serverText the server's command, or the target, for the report's environment
     */
    private Report execute(Target t, Settings settings, String runLabel, List<Report> previous, Long pid,
                           String serverText) throws Exception {
        Duration d = settings.duration();
        Duration w = settings.warmup();
        Duration to = settings.timeout();
        // Fail before any warm-up rather than measure a table of connection errors.
        t.checkConnects(to);
        int cores = Runtime.getRuntime().availableProcessors();
        int n = threads == null ? cores : threads;
        PrintWriter err = spec == null ? null : spec.commandLine().getErr();
        List<CellResult> cells = new ArrayList<>();
        Set<String> modeNames = new HashSet<>();
        settings.modes().forEach(m -> modeNames.add(m.label()));
        List<String> warnings = new ArrayList<>(comparisonWarnings(runLabel, rate, d.toMillis() / 1000.0, modeNames,
                previous));
        if (err != null) {
            warnings.forEach(x -> err.println("WARNING: " + x));
            err.flush();
        }
        String started = Report.now();
        int sources;
        Environment environment = Environment.here(serverText, Environment.commandLine(spec, "bench http"));
        try (HttpLoad load = new HttpLoad(t, n, to, expectStatus, expectBody, sourceAddresses, pid)) {
            sources = load.sourceAddresses().size();
            for (HttpLoad.Mode mode : settings.modes()) {
                for (int c : connections) {
                    String label = String.format(Locale.ROOT, "%-9s c=%-5d", mode.name().toLowerCase(Locale.ROOT), c);
                    CellResult r = load.run(mode, c, rate, w, d, noProgress || err == null ? null : p -> {
                        err.printf(Locale.ROOT, "\r%s %-6s %5.1f/%.0fs  responses %,d  errors %,d   ",
                                label, p.phase(), p.elapsedSeconds(), p.totalSeconds(), p.ok(), p.errors());
                        err.flush();
                    });
                    cells.add(r);
                    warnings.addAll(Report.warningsFor(r, n, cores, t.address().getAddress().isLoopbackAddress()));
                    if (rate > 0 && r.rps() + r.errorTotal() / Math.max(1e-9, r.seconds()) < 0.95 * rate) {
                        warnings.add(String.format(Locale.ROOT, "%s c=%d: only %.0f of the %.0f requests/s asked for "
                                + "were answered: the server (or the generator) could not keep the rate; its "
                                + "latencies include the time requests waited for their turn.", r.mode(),
                                r.connections(), r.rps(), rate));
                    }
                    if (err != null && !noProgress) {
                        err.printf(Locale.ROOT, "\r%s done: %,.1f req/s, p99 %.3f ms, %d errors%s%n", label, r.rps(),
                                r.p99() / 1000, r.errorTotal(),
                                r.firstError() == null ? "" : " (first: " + r.firstError() + ")");
                        err.flush();
                    }
                }
            }
        }
        Report report = new Report(runLabel, t.url(), started, w.toMillis() / 1000.0,
                d.toMillis() / 1000.0, rate, n, cores, sources, environment, cells, warnings, previous);
        report.write(out);
        return report;
    }
}
