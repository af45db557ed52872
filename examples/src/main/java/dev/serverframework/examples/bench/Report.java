package dev.serverframework.examples.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * A finished {@code bench http} run and its three renderings: the terminal table, {@code results.json}
 * and {@code report.html} (self-contained, with inline SVG charts).
 *
 * @param previous the cells of an earlier run to show beside these ({@code --compare}), or empty
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

    // ---------------------------------------------------------------- table

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

    private static String ms(double micros) {
        return String.format(Locale.ROOT, "%.3f", micros / 1000);
    }

    private static double pct(double old, double now) {
        return old == 0 ? 0 : (now - old) / old * 100;
    }

    private CellResult previousOf(CellResult c) {
        for (CellResult p : previous) {
            if (p.mode().equals(c.mode()) && p.connections() == c.connections()) {
                return p;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- JSON

    /** {@code results.json}: the run's settings, every cell with its errors by kind, and the warnings. */
    public String toJson() {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"tool\": \"server-framework bench http\",\n");
        b.append("  \"target\": ").append(Json.quote(target)).append(",\n");
        b.append("  \"startedAt\": ").append(Json.quote(startedAt)).append(",\n");
        b.append("  \"warmupSeconds\": ").append(Json.number(warmupSeconds)).append(",\n");
        b.append("  \"durationSeconds\": ").append(Json.number(durationSeconds)).append(",\n");
        b.append("  \"rate\": ").append(Json.number(rate)).append(",\n");
        b.append("  \"threads\": ").append(threads).append(",\n");
        b.append("  \"cores\": ").append(cores).append(",\n");
        b.append("  \"sourceAddresses\": ").append(sourceAddresses).append(",\n");
        b.append("  \"latencyUnit\": \"microseconds\",\n");
        b.append("  \"cells\": [");
        for (int i = 0; i < cells.size(); i++) {
            CellResult c = cells.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {");
            b.append("\"mode\": ").append(Json.quote(c.mode()));
            b.append(", \"connections\": ").append(c.connections());
            b.append(", \"seconds\": ").append(Json.number(c.seconds()));
            b.append(", \"ok\": ").append(c.ok());
            b.append(", \"rps\": ").append(Json.number(c.rps()));
            b.append(", \"p50\": ").append(Json.number(c.p50()));
            b.append(", \"p90\": ").append(Json.number(c.p90()));
            b.append(", \"p99\": ").append(Json.number(c.p99()));
            b.append(", \"p999\": ").append(Json.number(c.p999()));
            b.append(", \"max\": ").append(Json.number(c.max()));
            b.append(", \"mean\": ").append(Json.number(c.mean()));
            b.append(", \"connects\": ").append(c.connects());
            b.append(", \"connectP50\": ").append(Json.number(c.connectP50()));
            b.append(", \"connectP99\": ").append(Json.number(c.connectP99()));
            b.append(", \"connectMax\": ").append(Json.number(c.connectMax()));
            b.append(", \"cpuCores\": ").append(Json.number(c.cpuCores()));
            b.append(", \"cpuShare\": ").append(Json.number(c.cpuShare()));
            b.append(", \"errorTotal\": ").append(c.errorTotal());
            b.append(", \"errors\": {");
            String sep = "";
            for (ErrorKind k : ErrorKind.values()) {
                b.append(sep).append(Json.quote(k.label())).append(": ").append(c.errors().getOrDefault(k, 0L));
                sep = ", ";
            }
            b.append("}, \"firstError\": ").append(Json.quote(c.firstError())).append('}');
        }
        b.append("\n  ],\n  \"warnings\": [");
        for (int i = 0; i < warnings.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(Json.quote(warnings.get(i)));
        }
        b.append("]\n}\n");
        return b.toString();
    }

    /** The cells of a {@code results.json} written by an earlier run. */
    @SuppressWarnings("unchecked")
    public static List<CellResult> readCells(Path file) throws IOException {
        Object root = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        if (!(root instanceof Map<?, ?> m) || !(m.get("cells") instanceof List<?> list)) {
            throw new IllegalArgumentException(file + " is not a bench results.json (no \"cells\")");
        }
        List<CellResult> out = new ArrayList<>();
        for (Object o : list) {
            Map<String, Object> c = (Map<String, Object>) o;
            Map<ErrorKind, Long> errors = new EnumMap<>(ErrorKind.class);
            if (c.get("errors") instanceof Map<?, ?> em) {
                for (ErrorKind k : ErrorKind.values()) {
                    long n = (long) d(em.get(k.label()));
                    if (n > 0) {
                        errors.put(k, n);
                    }
                }
            }
            out.add(new CellResult((String) c.get("mode"), (int) d(c.get("connections")), d(c.get("seconds")),
                    (long) d(c.get("ok")), errors, d(c.get("p50")), d(c.get("p90")), d(c.get("p99")),
                    d(c.get("p999")), d(c.get("max")), d(c.get("mean")), (long) d(c.get("connects")),
                    d(c.get("connectP50")), d(c.get("connectP99")), d(c.get("connectMax")),
                    d(c.get("cpuCores")), d(c.get("cpuShare")), (String) c.get("firstError")));
        }
        return out;
    }

    private static double d(Object o) {
        return o instanceof Double v ? v : 0;
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

    // ---------------------------------------------------------------- HTML

    private static final String[] MODE_COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};

    private String color(String mode) {
        List<String> modes = modes();
        int i = modes.indexOf(mode);
        return MODE_COLORS[Math.max(0, i) % MODE_COLORS.length];
    }

    private List<String> modes() {
        List<String> m = new ArrayList<>();
        for (CellResult c : cells) {
            if (!m.contains(c.mode())) {
                m.add(c.mode());
            }
        }
        for (CellResult c : previous) {
            if (!m.contains(c.mode())) {
                m.add(c.mode());
            }
        }
        return m;
    }

    /** The self-contained HTML report. */
    public String toHtml() {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bench http: ")
                .append(esc(target)).append("</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em;"
                        + "color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
                        + "padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l{text-align:left}"
                        + ".warn{color:#a00}.err{background:#fdd}svg{font-size:12px}</style></head><body>\n");
        h.append("<h1>HTTP benchmark: keep-alive vs close</h1>\n<p>Target <code>").append(esc(target))
                .append("</code>, started ").append(esc(startedAt)).append(String.format(Locale.ROOT,
                        "; %.0f s warm-up and %.0f s measured per cell; %d client event-loop threads on %d cores.",
                        warmupSeconds, durationSeconds, threads, cores));
        h.append(rate > 0
                ? String.format(Locale.ROOT, " Constant rate of %.0f requests/s per cell; latency is measured from each "
                        + "request's intended send time (no coordinated omission).", rate)
                : " Closed loop: each connection sends its next request when the previous response has arrived.");
        if (sourceAddresses > 1 && cells.stream().anyMatch(c -> c.mode().equals("close"))) {
            h.append(" Close mode spread its connections over ").append(sourceAddresses)
                    .append(" source addresses (127.0.0.1–127.0.0.").append(sourceAddresses)
                    .append(") so that ports in TIME_WAIT do not run out.");
        }
        if (!previous.isEmpty()) {
            h.append(" Faded bars and dashed lines: the earlier run <code>").append(esc(previousLabel))
                    .append("</code>.");
        }
        h.append("</p>\n");
        h.append("<h2>Throughput (valid responses per second; higher is better)</h2>\n").append(throughputChart());
        h.append("<h2>Latency percentiles (log scale; lower is better)</h2>\n").append(latencyChart());
        h.append("<h2>All figures</h2>\n").append(htmlTable());
        if (!warnings.isEmpty()) {
            h.append("<h2 class=\"warn\">Warnings</h2>\n<ul>");
            for (String w : warnings) {
                h.append("<li class=\"warn\">").append(esc(w)).append("</li>");
            }
            h.append("</ul>\n");
        }
        h.append("<p>Every response was checked: status, exact Content-Length against the bytes received")
                .append(", and the body when <code>--expect-body</code> was given. Latency runs from sending a")
                .append(" request to the last byte of its response; TCP connect time is counted separately.</p>\n");
        return h.append("</body></html>\n").toString();
    }

    private String htmlTable() {
        StringBuilder t = new StringBuilder("<table><tr><th>run</th><th>mode</th><th>connections</th><th>req/s</th>"
                + "<th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th>");
        for (ErrorKind k : ErrorKind.values()) {
            t.append("<th>").append(k.label()).append("</th>");
        }
        t.append("<th>connect p99 ms</th><th>generator CPU (cores)</th><th>first error</th></tr>\n");
        for (CellResult c : cells) {
            t.append(htmlRow("new", c));
            CellResult old = previousOf(c);
            if (old != null) {
                t.append(htmlRow("old", old));
            }
        }
        return t.append("</table>\n").toString();
    }

    private static String htmlRow(String run, CellResult c) {
        StringBuilder r = new StringBuilder("<tr><td class=\"l\">").append(run).append("</td><td class=\"l\">")
                .append(esc(c.mode())).append("</td><td>").append(c.connections()).append("</td>")
                .append(String.format(Locale.ROOT, "<td>%.1f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>",
                        c.rps(), ms(c.p50()), ms(c.p90()), ms(c.p99()), ms(c.p999()), ms(c.max())));
        for (ErrorKind k : ErrorKind.values()) {
            long n = c.errors().getOrDefault(k, 0L);
            r.append(n > 0 ? "<td class=\"err\">" : "<td>").append(n).append("</td>");
        }
        r.append("<td>").append(c.connects() == 0 ? "-" : ms(c.connectP99())).append("</td><td>")
                .append(c.cpuCores() < 0 ? "-" : String.format(Locale.ROOT, "%.2f", c.cpuCores()))
                .append("</td><td class=\"l\">").append(esc(c.firstError() == null ? "" : c.firstError()))
                .append("</td></tr>\n");
        return r.toString();
    }

    private String throughputChart() {
        TreeSet<Integer> levels = new TreeSet<>();
        cells.forEach(c -> levels.add(c.connections()));
        List<String> modes = modes();
        boolean cmp = !previous.isEmpty();
        double maxRps = 1;
        for (CellResult c : cells) {
            maxRps = Math.max(maxRps, c.rps());
        }
        for (CellResult c : previous) {
            if (levels.contains(c.connections())) {
                maxRps = Math.max(maxRps, c.rps());
            }
        }
        double top = niceCeil(maxRps);
        int left = 70, plotH = 260, topPad = 30, bar = 26, gap = 4, groupGap = 40;
        int barsPerGroup = modes.size() * (cmp ? 2 : 1);
        int groupW = barsPerGroup * (bar + gap) + groupGap;
        int width = left + Math.max(1, levels.size()) * groupW + 160;
        int height = topPad + plotH + 50;
        StringBuilder s = new StringBuilder();
        s.append(String.format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "role=\"img\" aria-label=\"throughput by mode and concurrency\">\n", width, height));
        for (int i = 0; i <= 4; i++) {
            double v = top * i / 4;
            int y = topPad + plotH - (int) (plotH * i / 4.0);
            s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left, y, width - 160, y, left - 6,
                    y + 4, shortNum(v)));
        }
        int gi = 0;
        for (int level : levels) {
            int gx = left + 20 + gi * groupW;
            int bi = 0;
            for (String mode : modes) {
                for (int k = 0; k < (cmp ? 2 : 1); k++) {
                    CellResult c = find(k == 0 ? cells : previous, mode, level);
                    int x = gx + bi * (bar + gap);
                    bi++;
                    if (c == null) {
                        continue;
                    }
                    int hgt = (int) Math.round(plotH * c.rps() / top);
                    int y = topPad + plotH - hgt;
                    s.append(String.format("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                                    + "fill-opacity=\"%s\"%s><title>%s c=%d%s: %.1f req/s</title></rect>", x, y, bar, hgt,
                            color(mode), k == 0 ? "1" : "0.35",
                            k == 0 ? "" : " stroke=\"" + color(mode) + "\" stroke-dasharray=\"3,2\"", mode, level,
                            k == 0 ? "" : " (old)", c.rps()));
                    s.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\">%s</text>\n",
                            x + bar / 2, y - 3, shortNum(c.rps())));
                    if (c.errorTotal() > 0) {
                        s.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" "
                                + "fill=\"#c00\">&#9888;</text>", x + bar / 2, y - 14));
                    }
                }
            }
            s.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d conn.</text>\n",
                    gx + (barsPerGroup * (bar + gap)) / 2, topPad + plotH + 18, level));
            gi++;
        }
        s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", left,
                topPad + plotH, width - 160, topPad + plotH));
        s.append(String.format("<text x=\"%d\" y=\"%d\">req/s</text>\n", 4, topPad - 10));
        int ly = topPad;
        for (String mode : modes) {
            s.append(legend(width - 150, ly, color(mode), false, mode));
            ly += 18;
            if (cmp) {
                s.append(legend(width - 150, ly, color(mode), true, mode + " (old)"));
                ly += 18;
            }
        }
        if (cells.stream().anyMatch(c -> c.errorTotal() > 0) || previous.stream().anyMatch(c -> c.errorTotal() > 0)) {
            s.append(String.format("<text x=\"%d\" y=\"%d\" fill=\"#c00\" font-size=\"11\">&#9888; = had errors</text>",
                    width - 150, ly + 6));
        }
        return s.append("</svg>\n").toString();
    }

    private String latencyChart() {
        String[] names = {"p50", "p90", "p99", "p99.9", "max"};
        List<CellResult> all = new ArrayList<>(cells);
        List<CellResult> olds = new ArrayList<>();
        for (CellResult c : cells) {
            CellResult o = previousOf(c);
            if (o != null) {
                olds.add(o);
            }
        }
        all.addAll(olds);
        double lo = Double.MAX_VALUE, hi = 0;
        for (CellResult c : all) {
            for (double v : pcts(c)) {
                if (v > 0) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (hi == 0) {
            return "<p>No successful responses: no latencies to draw.</p>\n";
        }
        double logLo = Math.floor(Math.log10(lo)), logHi = Math.ceil(Math.log10(hi));
        if (logHi == logLo) {
            logHi++;
        }
        int left = 70, plotW = 520, plotH = 280, topPad = 20;
        int width = left + plotW + 220, height = topPad + plotH + 40;
        StringBuilder s = new StringBuilder(String.format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                + "height=\"%d\" role=\"img\" aria-label=\"latency percentiles\">\n", width, height));
        for (double e = logLo; e <= logHi; e++) {
            int y = topPad + plotH - (int) (plotH * (e - logLo) / (logHi - logLo));
            s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/><text x=\"%d\" "
                    + "y=\"%d\" text-anchor=\"end\">%s</text>\n", left, y, left + plotW, y, left - 6, y + 4,
                    micros(Math.pow(10, e))));
        }
        for (int i = 0; i < names.length; i++) {
            int x = left + 30 + i * (plotW - 60) / (names.length - 1);
            s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/><text x=\"%d\" "
                    + "y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, topPad, x, topPad + plotH, x,
                    topPad + plotH + 18, names[i]));
        }
        TreeSet<Integer> levels = new TreeSet<>();
        cells.forEach(c -> levels.add(c.connections()));
        List<Integer> levelList = new ArrayList<>(levels);
        int ly = topPad;
        for (CellResult c : all) {
            boolean old = olds.contains(c) && !cells.contains(c);
            // Thicker lines for more connections: mode is the colour, concurrency the weight.
            double widthPx = 1.2 + 1.6 * levelList.indexOf(c.connections());
            StringBuilder pts = new StringBuilder();
            double[] v = pcts(c);
            for (int i = 0; i < v.length; i++) {
                if (v[i] <= 0) {
                    continue;
                }
                int x = left + 30 + i * (plotW - 60) / (names.length - 1);
                int y = topPad + plotH - (int) (plotH * (Math.log10(v[i]) - logLo) / (logHi - logLo));
                pts.append(x).append(',').append(y).append(' ');
                s.append(String.format("<circle cx=\"%d\" cy=\"%d\" r=\"2.5\" fill=\"%s\"><title>%s c=%d%s %s: %s"
                        + "</title></circle>", x, y, color(c.mode()), c.mode(), c.connections(), old ? " (old)" : "",
                        names[i], micros(v[i])));
            }
            s.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>\n",
                    pts.toString().trim(), color(c.mode()), widthPx, old ? " stroke-dasharray=\"5,3\" stroke-opacity=\"0.6\"" : ""));
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>"
                            + "<text x=\"%d\" y=\"%d\">%s c=%d%s</text>\n", left + plotW + 20, ly, left + plotW + 50, ly,
                    color(c.mode()), widthPx, old ? " stroke-dasharray=\"5,3\"" : "", left + plotW + 56, ly + 4,
                    c.mode(), c.connections(), old ? " (old)" : ""));
            ly += 18;
        }
        return s.append("</svg>\n").toString();
    }

    private static double[] pcts(CellResult c) {
        return new double[] {c.p50(), c.p90(), c.p99(), c.p999(), c.max()};
    }

    private static CellResult find(List<CellResult> list, String mode, int level) {
        for (CellResult c : list) {
            if (c.mode().equals(mode) && c.connections() == level) {
                return c;
            }
        }
        return null;
    }

    private static String legend(int x, int y, String color, boolean old, String label) {
        return String.format("<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\" fill-opacity=\"%s\"/>"
                + "<text x=\"%d\" y=\"%d\">%s</text>\n", x, y - 10, color, old ? "0.35" : "1", x + 20, y, esc(label));
    }

    private static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String shortNum(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.1fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static String micros(double us) {
        if (us >= 1e6) {
            return String.format(Locale.ROOT, "%.3g s", us / 1e6);
        }
        if (us >= 1e3) {
            return String.format(Locale.ROOT, "%.3g ms", us / 1e3);
        }
        return String.format(Locale.ROOT, "%.3g µs", us);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
