package dev.serverframework.examples.bench;

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
 * {@code results.json} ({@link ResultsJson}) and {@code report.html} ({@link HtmlReport}, self-contained, with
 * inline SVG charts).
 *
 * @param target          the URL requested
 * @param startedAt       when the run started (ISO-8601)
 * @param warmupSeconds   unrecorded warm-up per cell
 * @param durationSeconds recorded time per cell
 * @param rate            the constant total rate asked for, requests/s; 0 for closed loops
 * @param threads         client event-loop threads
 * @param cores           this machine's cores
 * @param sourceAddresses 127.0.0.x source addresses close mode used (0 or 1: the kernel's choice)
 * @param cells           one result per mode and concurrency, in run order
 * @param warnings        what makes figures less trustworthy (a saturated generator, a rate not kept)
 * @param previousLabel   where the earlier run came from ({@code --compare}'s file), or null
 * @param previous        the cells of an earlier run to show beside these ({@code --compare}), or empty
 */
public record Report(String target, String startedAt, double warmupSeconds, double durationSeconds, double rate,
                     int threads,
                     int cores, int sourceAddresses, List<CellResult> cells, List<String> warnings,
                     String previousLabel, List<CellResult> previous) {

    private static final ErrorKind[] TABLE_KINDS = {ErrorKind.CONNECT_REFUSED, ErrorKind.RESET, ErrorKind.TIMEOUT,
            ErrorKind.BAD_STATUS, ErrorKind.WRONG_LENGTH};

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
                    + "threads): it was likely the bottleneck; these figures are a lower bound for the server.",
                    cell, c.cpuCores(), capacity, threads));
        } else if (loopback && c.cpuShare() >= 0.40) {
            w.add(String.format(Locale.ROOT, "%s: the load generator used %.0f%% of this machine's %d cores, which "
                    + "the server shares: the server was competing with it for CPU.", cell, c.cpuShare() * 100, cores));
        }
        return w;
    }

    /** The table printed at the end of the run. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-9s %5s %11s %9s %9s %9s %9s %9s %7s %7s %7s %7s %7s %7s %9s %5s%n",
                "mode", "conns", "req/s", "p50", "p90", "p99", "p99.9", "max", "refused", "reset", "timeout",
                "status", "length", "other", "connect99", "cpu"));
        for (CellResult c : cells) {
            b.append(row(c, ""));
            CellResult old = previousOf(c);
            if (old != null) {
                b.append(row(old, "(old)"));
                b.append(String.format(Locale.ROOT, "%-15s %+10.1f%%%n", "  change", pct(old.rps(), c.rps())));
            }
        }
        b.append("latencies in ms; errors counted per kind");
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
        long other = c.errorTotal();
        for (ErrorKind k : TABLE_KINDS) {
            other -= c.errors().getOrDefault(k, 0L);
        }
        return String.format(Locale.ROOT, "%-9s %5d %11.1f %9s %9s %9s %9s %9s %7d %7d %7d %7d %7d %7d %9s %5s %s%n",
                c.mode(), c.connections(), c.rps(), ms(c.p50()), ms(c.p90()), ms(c.p99()), ms(c.p999()), ms(c.max()),
                err(c, ErrorKind.CONNECT_REFUSED), err(c, ErrorKind.RESET), err(c, ErrorKind.TIMEOUT),
                err(c, ErrorKind.BAD_STATUS), err(c, ErrorKind.WRONG_LENGTH), other,
                c.connects() == 0 ? "-" : ms(c.connectP99()),
                c.cpuCores() < 0 ? "-" : String.format(Locale.ROOT, "%.2f", c.cpuCores()), suffix).stripTrailing()
                + System.lineSeparator();
    }

    private static long err(CellResult c, ErrorKind k) {
        return c.errors().getOrDefault(k, 0L);
    }

    /** Microseconds as milliseconds with three decimals. */
    static String ms(double micros) {
        return String.format(Locale.ROOT, "%.3f", micros / 1000);
    }

    private static double pct(double old, double now) {
        return old == 0 ? 0 : (now - old) / old * 100;
    }

    /** The earlier run's cell of the same mode and concurrency as {@code c}, or null. */
    CellResult previousOf(CellResult c) {
        for (CellResult p : previous) {
            if (p.mode().equals(c.mode()) && p.connections() == c.connections()) {
                return p;
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

    /** The cells of a {@code results.json} written by an earlier run. */
    public static List<CellResult> readCells(Path file) throws IOException {
        return ResultsJson.readCells(file);
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
