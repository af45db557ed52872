package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeSet;

/**
 * The charts of {@code report.html}, drawn in the browser by uPlot (inlined from the copy the build unpacks from its webjar, so the page stays one
 * file that needs no network): the figures go into the page as JSON, and a short script draws throughput, server
 * CPU per request and latency by concurrency for every series, and each cell's second-by-second latency and rate.
 * uPlot rather than hand-drawn SVG: it gives zoom and a value legend on hover, and copes with many points.
 */
final class ReportCharts {
    /** Where the build puts uPlot's files, unpacked from its webjar (see examples/pom.xml): no version in the path. */
    private static final String UPLOT = "dev/serverframework/examples/bench/uplot/";

    /** Draws every element with a {@code data-chart} attribute from the {@code report-data} JSON. */
    private static final String SCRIPT = """
            (function () {
              const data = JSON.parse(document.getElementById('report-data').textContent);
              const COLORS = {keepalive: '#1f6fb4', close: '#d4551f'};
              const DASHES = [[], [8, 4], [2, 3], [12, 3, 2, 3]];
              const width = el => Math.max(280, el.clientWidth);
              const num = (u, v) => v == null ? '-' : v.toLocaleString('en', {maximumFractionDigits: 3});
              const x = data.levels.map((_, i) => i);
              const levelAxis = {label: 'concurrent connections', splits: () => x,
                                 values: (u, splits) => splits.map(i => 'c=' + data.levels[i])};
              function byLevel(el, key, unit, log) {
                const series = [{label: 'c', value: (u, i) => i == null ? '-' : 'c=' + data.levels[i]}];
                const columns = [x];
                data.series.forEach(s => {
                  (key === 'latency' ? ['p99', 'p50'] : [key]).forEach(k => {
                    series.push({label: s.label + ' ' + s.mode + (key === 'latency' ? ' ' + k : ''),
                                 stroke: COLORS[s.mode] || '#555', dash: DASHES[s.index % DASHES.length],
                                 width: k === 'p50' ? 1 : 2, points: {size: 7}, value: num});
                    columns.push(s[k].map(v => v == null || (log ? v <= 0 : v < 0) ? null : v));
                  });
                });
                new uPlot({width: width(el), height: 300, series: series,
                           scales: {x: {time: false, range: [-0.4, x.length - 0.6]}, y: log ? {distr: 3} : {}},
                           axes: [levelAxis, {label: unit, size: 70}]}, columns, el);
              }
              function timeline(el, cell) {
                new uPlot({width: width(el), height: 220, title: cell.title,
                           series: [{label: 's', value: (u, v) => v == null ? '-' : v.toFixed(0) + ' s'},
                                    {label: 'p50 ms', stroke: '#1f6fb4', scale: 'ms', value: num, spanGaps: false},
                                    {label: 'p99 ms', stroke: '#d4551f', scale: 'ms', value: num, spanGaps: false},
                                    {label: 'req/s', stroke: '#2a9d3a', scale: 'rps', dash: [5, 3], value: num},
                                    {label: 'errors/s', stroke: '#000', scale: 'rps', width: 1, value: num}],
                           scales: {x: {time: false}, ms: {range: (u, min, max) => [0, Math.max(max, 0.001)]},
                                    rps: {range: (u, min, max) => [0, Math.max(max, 1)]}},
                           axes: [{label: 'seconds into the measured run'}, {scale: 'ms', label: 'ms', size: 60},
                                  {scale: 'rps', side: 1, label: 'req/s', size: 70, grid: {show: false}}]},
                          [cell.t, cell.p50, cell.p99, cell.rps, cell.eps], el);
              }
              document.querySelectorAll('[data-chart]').forEach(el => {
                const kind = el.dataset.chart;
                if (kind === 'timeline') {
                  timeline(el, data.cells[Number(el.dataset.cell)]);
                } else {
                  byLevel(el, kind, el.dataset.unit, kind === 'latency');
                }
              });
              document.body.dataset.charts = String(document.querySelectorAll('.uplot').length);
            })();
            """;

    private ReportCharts() {
    }

    /** uPlot's style sheet. */
    static String css() {
        return resource(UPLOT + "uPlot.min.css");
    }

    /** uPlot, then the figures as JSON, then the script that draws them. */
    static String scripts(Report r) {
        return uplot() + dataScript(data(r)) + "<script>" + SCRIPT + "</script>\n";
    }

    /** uPlot itself, inlined. */
    static String uplot() {
        return "<script>" + resource(UPLOT + "uPlot.iife.min.js") + "</script>\n";
    }

    /** {@code data} as the page's {@code report-data} JSON element. */
    static String dataScript(ObjectNode data) {
        // '<' escaped inside the JSON so that no "</script>" in a label or an error can end the element.
        return "<script type=\"application/json\" id=\"report-data\">"
                + BenchJson.write(data).replace("<", "\\u003c") + "</script>\n";
    }

    /**
     * The figures the script draws: the concurrency levels of every series, each series (a run's mode) with its
     * throughput, server CPU ms per 1,000 responses and p50/p99 in ms per level (null where it has no cell), and
     * this run's cells interval by interval (t, req/s, p50 and p99 in ms or null when no response came in it, errors/s).
     */
    static ObjectNode data(Report r) {
        ObjectNode d = BenchJson.object();
        TreeSet<Integer> levels = new TreeSet<>();
        List<Report> runs = HtmlReport.runs(r);
        runs.forEach(run -> run.cells().forEach(c -> levels.add(c.connections())));
        levels.forEach(d.putArray("levels")::add);
        ArrayNode series = d.putArray("series");
        for (int i = 0; i < runs.size(); i++) {
            Report run = runs.get(i);
            for (String mode : HtmlReport.modes(run)) {
                ObjectNode s = series.addObject().put("label", run.label()).put("mode", mode).put("index", i);
                ArrayNode rps = s.putArray("rps");
                ArrayNode cpu = s.putArray("cpu");
                ArrayNode p50 = s.putArray("p50");
                ArrayNode p99 = s.putArray("p99");
                for (int level : levels) {
                    CellResult c = Report.find(run.cells(), mode, level);
                    if (c == null) {
                        rps.addNull();
                        cpu.addNull();
                        p50.addNull();
                        p99.addNull();
                    } else {
                        rps.add(c.rps());
                        Double perK = c.serverCpuMsPer1000();
                        if (perK == null) {
                            cpu.addNull();
                        } else {
                            cpu.add(perK);
                        }
                        p50.add(c.p50() / 1000);
                        p99.add(c.p99() / 1000);
                    }
                }
            }
        }
        ArrayNode cells = d.putArray("cells");
        for (CellResult c : r.cells()) {
            ObjectNode cell = cells.addObject().put("title", r.label() + ": " + c.mode() + " c=" + c.connections());
            ArrayNode t = cell.putArray("t");
            ArrayNode rps = cell.putArray("rps");
            ArrayNode p50 = cell.putArray("p50");
            ArrayNode p99 = cell.putArray("p99");
            ArrayNode eps = cell.putArray("eps");
            for (CellResult.Second s : c.perSecond()) {
                t.add(s.t());
                rps.add(s.rps());
                // No response in an interval: no latency (null, a gap in the line), rather than a dip to 0 ms.
                if (s.p50() == null || s.p99() == null) {
                    p50.addNull();
                    p99.addNull();
                } else {
                    p50.add(s.p50() / 1000);
                    p99.add(s.p99() / 1000);
                }
                eps.add(s.eps());
            }
        }
        return d;
    }

    private static String resource(String name) {
        try (InputStream in = ReportCharts.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the class path (the build unpacks it from the uplot webjar)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
