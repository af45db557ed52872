package dev.serverframework.examples.bench;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A finished {@code bench http} run and its three renderings: the terminal {@link #table()},
 * {@code results.json} ({@link ResultsJson}) and {@code report.html} ({@link HtmlReport}, self-contained).
 *
 * @param label           this run's name in tables and charts ({@code --label}; by default the server's name or
 *                        the target's host:port)
 * @param target          the URL requested
 * @param startedAt       when the run started (ISO-8601)
 * @param warmupSeconds   unrecorded warm-up per cell
 * @param durationSeconds recorded time per cell
 * @param rate            the constant total rate asked for, requests/s; 0 for closed loops
 * @param threads         client event-loop threads
 * @param cores           this machine's cores
 * @param sourceAddresses 127.0.0.x source addresses close mode used (0 or 1: the kernel's choice)
 * @param environment     the machine, the JVM and the commands of the run
 * @param cells           one result per mode and concurrency, in run order
 * @param warnings        what makes figures less trustworthy (a saturated generator, a rate not kept)
 * @param compared        earlier runs to show beside this one ({@code --compare}), each with its own label;
 *                        not part of {@code results.json}
 */
public record Report(String label, String target, String startedAt, double warmupSeconds, double durationSeconds,
                     double rate, int threads, int cores, int sourceAddresses, Environment environment,
                     List<CellResult> cells, List<String> warnings, @JsonIgnore List<Report> compared) {

    /**
     * Lists copied; no warnings and no compared runs when null (as read from results.json); a string a compared
     * file lacks is "unknown" ({@link ResultsJson#read} names a run without a label after its file), an unknown
     * environment has every field "unknown".
     *
     * @throws IllegalArgumentException without cells: not a run's results
     */
    public Report {
        if (cells == null) {
            throw new IllegalArgumentException("a bench http run has cells");
        }
        cells = List.copyOf(cells);
        label = Environment.known(label);
        target = Environment.known(target);
        startedAt = Environment.known(startedAt);
        environment = environment == null ? Environment.unknown() : environment;
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
        compared = compared == null ? List.of() : List.copyOf(compared);
    }

    /** This run under another name (for compared runs whose labels clash). */
    Report withLabel(String newLabel) {
        return new Report(newLabel, target, startedAt, warmupSeconds, durationSeconds, rate, threads, cores,
                sourceAddresses, environment, cells, warnings, compared);
    }

    /** The generator-bottleneck warnings for one cell, empty when none applies. */
    static List<String> warningsFor(CellResult c, int threads, int cores, boolean loopback) {
        List<String> w = new ArrayList<>();
        if (c.cpuCores() < 0) {
            return w;
        }
        int capacity = Math.min(threads, cores);
        String cell = c.mode() + " c=" + c.connections();
        if (c.cpuCores() >= 0.85 * capacity) {
            w.add(String.format(Locale.ROOT, "%s: the load generator used %.2f of its %d core(s) (%d event-loop "
                    + "threads): it was likely the bottleneck; these figures are a lower bound for the server; "
                    + "its CPU per request is the fairer figure.", cell, c.cpuCores(), capacity, threads));
        } else if (loopback && c.cpuShare() >= 0.40) {
            w.add(String.format(Locale.ROOT, "%s: the load generator used %.0f%% of the %d core(s) it may run on: a "
                    + "server on the same cores was competing with it for CPU (pin them apart with taskset).", cell,
                    c.cpuShare() * 100, cores));
        }
        return w;
    }

    /** The table printed at the end of the run; the compared runs' cells follow each cell, under their label. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-9s %5s %11s %9s %9s %9s %9s %9s %9s %5s %8s  %s%n",
                "mode", "conns", "req/s", "p50", "p90", "p99", "p99.9", "max", "connect99", "cpu", "srv/1k", "errors"));
        for (CellResult c : cells) {
            b.append(row(c, ""));
            for (Report other : compared) {
                CellResult old = find(other.cells(), c.mode(), c.connections());
                if (old != null) {
                    b.append(row(old, "(" + other.label() + ")"));
                    b.append(String.format(Locale.ROOT, "%-15s %+10.1f%%%n", "  change", pct(old.rps(), c.rps())));
                }
            }
        }
        b.append("latencies in ms; cpu: the generator's cores; srv/1k: the server's CPU ms per 1,000 responses "
                + "(valid or not)");
        if (HtmlReport.runs(this).stream().flatMap(r -> r.cells().stream()).anyMatch(CellResult::serverCpuImprecise)) {
            b.append("; ~: from under 1 s of server CPU (100 clock ticks of 10 ms), imprecise");
        }
        boolean anyClose = cells.stream().anyMatch(c -> c.mode().equals("close"));
        if (sourceAddresses > 1 && anyClose) {
            b.append("; close mode bound its connections to ").append(sourceAddresses)
                    .append(" source addresses 127.0.0.1-").append(sourceAddresses);
        }
        b.append(System.lineSeparator());
        for (String w : warnings) {
            b.append("WARNING: ").append(w).append(System.lineSeparator());
        }
        return b.toString();
    }

    private static String row(CellResult c, String suffix) {
        return String.format(Locale.ROOT, "%-9s %5d %11.1f %9s %9s %9s %9s %9s %9s %5s %8s  %s %s",
                c.mode(), c.connections(), c.rps(), ms(c.p50()), ms(c.p90()), ms(c.p99()), ms(c.p999()), ms(c.max()),
                c.connects() == 0 ? "-" : ms(c.connectP99()),
                c.cpuCores() < 0 ? "-" : String.format(Locale.ROOT, "%.2f", c.cpuCores()),
                c.serverCpuText(1),
                c.errorSummary(), suffix).stripTrailing() + System.lineSeparator();
    }

    /** Microseconds as milliseconds with three decimals. */
    static String ms(double micros) {
        return String.format(Locale.ROOT, "%.3f", micros / 1000);
    }

    private static double pct(double old, double now) {
        return old == 0 ? 0 : (now - old) / old * 100;
    }

    /** The cell of {@code mode} at {@code connections} in {@code cells}, or null. */
    static CellResult find(List<CellResult> cells, String mode, int connections) {
        for (CellResult c : cells) {
            if (c.mode().equals(mode) && c.connections() == connections) {
                return c;
            }
        }
        return null;
    }

    /** {@code results.json} (see {@link ResultsJson}). */
    public String toJson() {
        return ResultsJson.of(this);
    }

    /** The self-contained {@code report.html} (see {@link HtmlReport}). */
    public String toHtml() {
        return HtmlReport.of(this);
    }

    /** A run from the {@code results.json} it wrote, for {@code --compare}. */
    public static Report read(Path file) {
        return ResultsJson.read(file);
    }

    /** Writes {@code results.json} and {@code report.html} into {@code dir} (created if needed). */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("results.json"), toJson(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("report.html"), toHtml(), StandardCharsets.UTF_8);
    }

    /** Now, for {@code startedAt}. */
    static String now() {
        return Instant.now().toString();
    }
}
