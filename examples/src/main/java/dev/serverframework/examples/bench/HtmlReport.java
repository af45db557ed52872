package dev.serverframework.examples.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

import static dev.serverframework.examples.bench.Report.ms;

/**
 * {@code report.html} of a {@code bench http} run: one self-contained page, headline first (keep-alive vs close
 * throughput at each concurrency), then the charts ({@link ReportCharts}), every figure in a table that fits a
 * 1280 px window, the warnings, and the environment of every run shown. Runs given to {@code --compare} appear
 * beside this one under their own labels.
 */
final class HtmlReport {
    /** The reports' style: readable tables that fit a 1280 px window, two charts a row. */
    static final String STYLE = "body{font-family:system-ui,sans-serif;margin:16px auto;max-width:1240px;"
            + "padding:0 12px;color:#222}h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
            + "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;"
            + "text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}td.wrap{overflow-wrap:anywhere;"
            + "max-width:16em}.warn{color:#a00}.err{background:#fdd}.ratio{font-size:26px;font-weight:600}"
            + ".sub{color:#666;font-size:12px}.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}"
            + "#headline td{padding:6px 14px}code{overflow-wrap:anywhere}";

    private final Report report;
    private final List<Report> runs;

    private HtmlReport(Report report) {
        this.report = report;
        this.runs = runs(report);
    }

    /** The page for {@code r}. */
    static String of(Report r) {
        return new HtmlReport(r).page();
    }

    /** This run, then the compared runs, in order. */
    static List<Report> runs(Report r) {
        List<Report> all = new ArrayList<>();
        all.add(r);
        all.addAll(r.compared());
        return all;
    }

    /** The modes of a run, in the order it ran them. */
    static List<String> modes(Report run) {
        return run.cells().stream().map(CellResult::mode).distinct().toList();
    }

    private String page() {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bench http: ")
                .append(esc(report.label())).append("</title>\n<style>").append(ReportCharts.css()).append(STYLE)
                .append("</style></head><body>\n");
        h.append("<h1>HTTP benchmark: keep-alive vs close — ").append(esc(report.label())).append("</h1>\n");
        h.append(summary());
        h.append(headline());
        h.append("<h2>Throughput (valid responses per second; higher is better)</h2>\n")
                .append("<div data-chart=\"rps\" data-unit=\"req/s\"></div>\n");
        h.append("<h2>Server CPU per 1,000 requests (ms; lower is better)</h2>\n");
        if (runs.stream().flatMap(run -> run.cells().stream()).anyMatch(c -> c.serverCpuMsPer1000() != null)) {
            h.append("<p>The server's user + system CPU time over each measured window (the kernel's count for its ")
                    .append("process), per 1,000 responses that completed in the window, valid or not (a wrong ")
                    .append("status or body is work the server did too; failed connects and timeouts are not ")
                    .append("responses): the fairest figure when the load generator is the limit.");
            if (runs.stream().flatMap(run -> run.cells().stream()).anyMatch(CellResult::serverCpuImprecise)) {
                h.append(" Figures marked ~ come from under 1 s of server CPU, fewer than 100 clock ticks of 10 ms: ")
                        .append("imprecise; measure longer (<code>--duration</code>) for a precise one.");
            }
            h.append("</p>\n")
                    .append("<div id=\"cpu\" data-chart=\"cpu\" data-unit=\"CPU ms / 1,000 requests\"></div>\n");
        } else {
            h.append("<p id=\"cpu\">Not measured: give <code>--server-pid PID</code> (or run the server with ")
                    .append("<code>--server httpd</code>) to read its CPU time.</p>\n");
        }
        h.append("<h2>Latency by concurrency (p99 thick, p50 thin; log scale; lower is better)</h2>\n")
                .append("<div data-chart=\"latency\" data-unit=\"ms\"></div>\n");
        h.append("<h2 id=\"per-second\">Second by second (").append(esc(report.label()))
                .append("): p50 and p99 latency, responses and errors per second</h2>\n")
                .append("<p class=\"sub\">Each interval is about a second, bounded by when its figures were really ")
                .append("taken, and its rates are divided by its real length. An interval without a response has no ")
                .append("latency: a gap in its lines, not 0 ms.</p>\n<div class=\"grid\">");
        for (int i = 0; i < report.cells().size(); i++) {
            h.append("<div data-chart=\"timeline\" data-cell=\"").append(i).append("\"></div>");
        }
        h.append("</div>\n<h2>All figures</h2>\n").append(table());
        h.append(warnings());
        h.append(EnvironmentHtml.table(runs.stream().map(Report::label).toList(),
                runs.stream().map(Report::environment).toList()));
        h.append("<p class=\"sub\">Every response was checked: status, exact Content-Length against the bytes ")
                .append("received, and the body when <code>--expect-body</code> was given. Latency runs from sending ")
                .append("a request to the last byte of its response; TCP connect time is counted separately. ")
                .append("Charts: drag to zoom, double-click to reset, hover for values.</p>\n");
        h.append(ReportCharts.scripts(report));
        return h.append("</body></html>\n").toString();
    }

    private String summary() {
        StringBuilder h = new StringBuilder("<p>Target <code>").append(esc(report.target())).append("</code>, started ")
                .append(esc(report.startedAt())).append(String.format(Locale.ROOT,
                        "; %.1f s warm-up and %.1f s measured per cell; %d client event-loop threads on %d cores.",
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
        if (runs.size() > 1) {
            h.append(" Compared with: ");
            for (int i = 1; i < runs.size(); i++) {
                h.append(i > 1 ? ", " : "").append("<b>").append(esc(runs.get(i).label())).append("</b> (")
                        .append(esc(runs.get(i).startedAt())).append(")");
            }
            h.append("; their lines are dashed or dotted.");
        }
        return h.append("</p>\n").toString();
    }

    /** Keep-alive throughput divided by close throughput, per run and concurrency: the comparison people want. */
    private String headline() {
        TreeSet<Integer> levels = new TreeSet<>();
        runs.forEach(run -> run.cells().forEach(c -> levels.add(c.connections())));
        StringBuilder h = new StringBuilder("<h2>Keep-alive vs close: throughput ratio</h2>\n<table id=\"headline\">")
                .append("<tr><th class=\"l\">run</th>");
        levels.forEach(c -> h.append("<th>c=").append(c).append("</th>"));
        h.append("</tr>\n");
        for (Report run : runs) {
            h.append("<tr><td class=\"l\"><b>").append(esc(run.label())).append("</b></td>");
            for (int level : levels) {
                CellResult ka = Report.find(run.cells(), "keepalive", level);
                CellResult close = Report.find(run.cells(), "close", level);
                if (ka == null || close == null || close.rps() == 0) {
                    h.append("<td>–</td>");
                    continue;
                }
                h.append(String.format(Locale.ROOT, "<td><span class=\"ratio\">%.1f×</span><br><span class=\"sub\">"
                        + "%,.0f vs %,.0f req/s", ka.rps() / close.rps(), ka.rps(), close.rps()));
                // Only from two known figures, and only when neither is zero; "~" when either is imprecise.
                Double kaCpu = ka.serverCpuMsPer1000();
                Double closeCpu = close.serverCpuMsPer1000();
                if (kaCpu != null && closeCpu != null && kaCpu > 0 && closeCpu > 0) {
                    h.append(String.format(Locale.ROOT, "<br>close costs %s%.1f× the server CPU per request",
                            ka.serverCpuImprecise() || close.serverCpuImprecise() ? "~" : "", closeCpu / kaCpu));
                }
                h.append("</span></td>");
            }
            h.append("</tr>\n");
        }
        return h.append("</table>\n").toString();
    }

    private String table() {
        StringBuilder t = new StringBuilder("<table id=\"figures\"><tr><th class=\"l\">run</th><th class=\"l\">mode"
                + "</th><th>conns</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th>"
                + "<th>max ms</th><th>connect p99 ms</th><th>server CPU ms / 1k req</th><th>generator cores</th>"
                + "<th class=\"l\">errors</th><th class=\"l\">first error</th></tr>\n");
        for (CellResult c : report.cells()) {
            t.append(row(report.label(), c));
            for (Report other : report.compared()) {
                CellResult old = Report.find(other.cells(), c.mode(), c.connections());
                if (old != null) {
                    t.append(row(other.label(), old));
                }
            }
        }
        return t.append("</table>\n").toString();
    }

    private static String row(String run, CellResult c) {
        return "<tr><td class=\"l\">" + esc(run) + "</td><td class=\"l\">" + esc(c.mode()) + "</td><td>"
                + c.connections() + "</td>"
                + String.format(Locale.ROOT, "<td>%,.1f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>",
                        c.rps(), ms(c.p50()), ms(c.p90()), ms(c.p99()), ms(c.p999()), ms(c.max()))
                + "<td>" + (c.connects() == 0 ? "-" : ms(c.connectP99())) + "</td><td>"
                + c.serverCpuText(2)
                + "</td><td>" + (c.cpuCores() < 0 ? "-" : String.format(Locale.ROOT, "%.2f", c.cpuCores()))
                + "</td><td class=\"l" + (c.errorTotal() > 0 ? " err" : "") + "\">" + esc(c.errorSummary())
                + "</td><td class=\"l wrap\">" + esc(c.firstError() == null ? "" : c.firstError()) + "</td></tr>\n";
    }

    private String warnings() {
        if (report.warnings().isEmpty()) {
            return "";
        }
        StringBuilder h = new StringBuilder("<h2 class=\"warn\">Warnings</h2>\n<ul>");
        for (String w : report.warnings()) {
            h.append("<li class=\"warn\">").append(esc(w)).append("</li>");
        }
        return h.append("</ul>\n").toString();
    }

    /** Text made safe inside HTML: {@code & < > "} escaped. */
    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
