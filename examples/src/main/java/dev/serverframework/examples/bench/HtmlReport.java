package dev.serverframework.examples.bench;

import java.util.Locale;

import static dev.serverframework.examples.bench.Report.ms;

/**
 * {@code report.html} of a {@code bench http} run: one self-contained page with the run's settings, the
 * throughput and latency charts ({@link SvgCharts}, inline SVG), every figure in a table, and the warnings.
 */
final class HtmlReport {
    private final Report report;
    private final SvgCharts charts;

    private HtmlReport(Report report) {
        this.report = report;
        this.charts = new SvgCharts(report);
    }

    /** The page for {@code r}. */
    static String of(Report r) {
        return new HtmlReport(r).page();
    }

    /** The page. */
    private String page() {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bench http: ")
                .append(esc(report.target())).append("</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em;"
                        + "color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
                        + "padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l{text-align:left}"
                        + ".warn{color:#a00}.err{background:#fdd}svg{font-size:12px}</style></head><body>\n");
        h.append("<h1>HTTP benchmark: keep-alive vs close</h1>\n<p>Target <code>").append(esc(report.target()))
                .append("</code>, started ").append(esc(report.startedAt())).append(String.format(Locale.ROOT,
                        "; %.0f s warm-up and %.0f s measured per cell; %d client event-loop threads on %d cores.",
                        report.warmupSeconds(), report.durationSeconds(), report.threads(), report.cores()));
        h.append(report.rate() > 0
                ? String.format(Locale.ROOT, " Constant rate of %.0f requests/s per cell; latency is measured from each "
                        + "request's intended send time (no coordinated omission).", report.rate())
                : " Closed loop: each connection sends its next request when the previous response has arrived.");
        if (report.sourceAddresses() > 1 && report.cells().stream().anyMatch(c -> c.mode().equals("close"))) {
            h.append(" Close mode spread its connections over ").append(report.sourceAddresses())
                    .append(" source addresses (127.0.0.1–127.0.0.").append(report.sourceAddresses())
                    .append(") so that ports in TIME_WAIT do not run out.");
        }
        if (!report.previous().isEmpty()) {
            h.append(" Faded bars and dashed lines: the earlier run <code>").append(esc(report.previousLabel()))
                    .append("</code>.");
        }
        h.append("</p>\n");
        h.append("<h2>Throughput (valid responses per second; higher is better)</h2>\n").append(charts.throughput());
        h.append("<h2>Latency percentiles (log scale; lower is better)</h2>\n").append(charts.latency());
        h.append("<h2>All figures</h2>\n").append(htmlTable());
        if (!report.warnings().isEmpty()) {
            h.append("<h2 class=\"warn\">Warnings</h2>\n<ul>");
            for (String w : report.warnings()) {
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
        for (CellResult c : report.cells()) {
            t.append(htmlRow("new", c));
            CellResult old = report.previousOf(c);
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

    /** Text made safe inside HTML and SVG: {@code & < > "} escaped. */
    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
