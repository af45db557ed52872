package dev.serverframework.examples.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

import static dev.serverframework.examples.bench.HtmlReport.esc;

/**
 * The two charts of the HTML report, as inline SVG: throughput (bars by concurrency, one colour per mode, the
 * earlier run faded beside it) and latency percentiles (log scale, one line per cell, thicker for more
 * connections, the earlier run dashed).
 */
final class SvgCharts {
    private final Report report;
    private final List<CellResult> cells;
    private final List<CellResult> previous;

    /** The charts of {@code report}'s cells beside its earlier run's. */
    SvgCharts(Report report) {
        this.report = report;
        this.cells = report.cells();
        this.previous = report.previous();
    }

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

    /** Valid responses per second, by concurrency level and mode. */
    String throughput() {
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

    /** Latency percentiles p50 to max of every cell, log scale. */
    String latency() {
        String[] names = {"p50", "p90", "p99", "p99.9", "max"};
        List<CellResult> all = new ArrayList<>(cells);
        List<CellResult> olds = new ArrayList<>();
        for (CellResult c : cells) {
            CellResult o = report.previousOf(c);
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
}
