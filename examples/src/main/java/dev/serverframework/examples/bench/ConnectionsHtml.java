package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Collections;
import java.util.List;

import static dev.serverframework.examples.bench.HtmlReport.esc;

/**
 * {@code report.html} of a {@code bench connections} run: one self-contained page with the figures, the
 * latency sample as a percentile curve (uPlot, inlined), the notes, and the environment.
 */
final class ConnectionsHtml {
    /** Points of the percentile curve at most: enough for its shape, small for the page. */
    private static final int CURVE_POINTS = 500;

    /** Draws the latency sample's percentile curve from the {@code report-data} JSON. */
    private static final String SCRIPT = """
            (function () {
              const data = JSON.parse(document.getElementById('report-data').textContent);
              const el = document.getElementById('latency');
              if (el && data.percentile.length > 0) {
                new uPlot({width: Math.max(280, el.clientWidth), height: 300,
                           series: [{label: 'percentile', value: (u, v) => v == null ? '-' : v.toFixed(1)},
                                    {label: 'latency ms', stroke: '#1f6fb4', width: 2,
                                     value: (u, v) => v == null ? '-' : v.toFixed(3)}],
                           scales: {x: {time: false}},
                           axes: [{label: 'percentile of the sample'}, {label: 'ms', size: 60}]},
                          [data.percentile, data.ms], el);
              }
              document.body.dataset.charts = String(document.querySelectorAll('.uplot').length);
            })();
            """;

    private ConnectionsHtml() {
    }

    /** The page for {@code r}. */
    static String of(ConnectionsResult r) {
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<title>bench connections: ").append(esc(r.target())).append("</title>\n<style>")
                .append(ReportCharts.css()).append(HtmlReport.STYLE).append("</style></head><body>\n")
                .append("<h1>Connections held: ").append(esc(r.target())).append("</h1>\n<p>")
                .append(esc(r.title())).append(".</p>\n<table id=\"figures\">");
        for (String[] f : r.figures()) {
            h.append("<tr><th class=\"l\">").append(esc(f[0])).append("</th><td class=\"l\">").append(esc(f[1]))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
        if (!r.notes().isEmpty()) {
            h.append("<h2>Notes</h2>\n<ul id=\"notes\">");
            r.notes().forEach(n -> h.append("<li>").append(esc(n)).append("</li>"));
            h.append("</ul>\n");
        }
        h.append("<h2>Latency of the sample, held connections all open (lower is better)</h2>\n")
                .append(r.latenciesMicros().length == 0 ? "<p>No sample.</p>\n" : "<div id=\"latency\"></div>\n");
        h.append(EnvironmentHtml.table(List.of(r.target()), Collections.singletonList(r.environment())));
        h.append(ReportCharts.uplot()).append(ReportCharts.dataScript(data(r)))
                .append("<script>").append(SCRIPT).append("</script>\n");
        return h.append("</body></html>\n").toString();
    }

    /** The sorted sample as (percentile, ms) points, thinned to at most {@link #CURVE_POINTS}. */
    private static ObjectNode data(ConnectionsResult r) {
        ObjectNode d = BenchJson.object();
        ArrayNode percentile = d.putArray("percentile");
        ArrayNode ms = d.putArray("ms");
        long[] sample = r.latenciesMicros();
        int step = Math.max(1, sample.length / CURVE_POINTS);
        for (int i = 0; i < sample.length; i += step) {
            percentile.add(100.0 * (i + 1) / sample.length);
            ms.add(sample[i] / 1000.0);
        }
        if (sample.length > 0 && (sample.length - 1) % step != 0) {
            // The maximum always shows.
            percentile.add(100.0);
            ms.add(sample[sample.length - 1] / 1000.0);
        }
        return d;
    }
}
