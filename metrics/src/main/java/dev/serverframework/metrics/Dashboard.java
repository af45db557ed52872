package dev.serverframework.metrics;

import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The live dashboard: one self-contained HTML page (from this jar, with uPlot's script and stylesheet inlined,
 * which the build copies into this jar from uPlot's webjar: no CDN, no second request) and the
 * JSON it polls every second. The JSON carries running totals (requests, bytes, GC time, the latency
 * histogram's cumulative buckets) and current values (open connections by service, worker queue depths,
 * heap); the page turns totals into per-second rates and p50/p99 of the last second. It reads whatever
 * the registry holds: bind {@link ServerMetrics} and {@link HttpMetrics} to fill it. Thread-safe.
 */
public final class Dashboard {
    /** Where dashboard.html wants uPlot's stylesheet and script. */
    private static final String UPLOT_MARKER = "<!-- uPlot -->";
    /** uPlot's files, copied from its webjar into this jar by the build (metrics/pom.xml): script, stylesheet. */
    private static final String UPLOT = "uplot/";
    private static final byte[] PAGE = page();

    private static final double NANOS_PER_SECOND = 1e9;

    private final MeterRegistry registry;
    /** The routes {@link MetricsRoutes} serves: left out of the requests and latencies the page shows. */
    private static final Set<String> MONITORING_ROUTES = Set.of(MetricsRoutes.METRICS, MetricsRoutes.DASHBOARD,
            MetricsRoutes.DASHBOARD_DATA);

    /** The latency bounds' JSON text, formatted once (String.format is slow); any thread may replace it. */
    private volatile BoundTexts boundTexts;

    /** A dashboard of the meters in {@code registry}. */
    public Dashboard(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** {@code GET /dashboard}: the page. */
    public Response page(Request request) {
        return Response.bytes(PAGE, "text/html; charset=utf-8").header("Cache-Control", "no-cache");
    }

    /** {@code GET /dashboard/data}: the current values as JSON. */
    public Response data(Request request) {
        return Response.json(json()).header("Cache-Control", "no-store");
    }

    /** The current values as a JSON object. Any thread. */
    public String json() {
        StringBuilder j = new StringBuilder(1024);
        j.append("{\"time\":").append(System.currentTimeMillis());
        // HTTP: requests and the latency histogram, summed over every method, uri and status but the
        // monitoring routes': a scrape takes milliseconds and would stand in the application's p99.
        long requests = 0;
        double latencySum = 0;
        double latencyMax = 0;
        Buckets buckets = new Buckets();
        for (Timer t : registry.find("http.server.requests").timers()) {
            if (MONITORING_ROUTES.contains(t.getId().getTag("uri"))) {
                continue;
            }
            HistogramSnapshot s = t.takeSnapshot();
            requests += s.count();
            latencySum += s.total(TimeUnit.SECONDS);
            latencyMax = Math.max(latencyMax, s.max(TimeUnit.SECONDS));
            buckets.add(s.histogramCounts());
        }
        j.append(",\"requests\":").append(requests);
        field(j, "latencySum", latencySum);
        field(j, "latencyMax", latencyMax);
        j.append(",\"latencyBuckets\":");
        buckets.appendTo(j);
        field(j, "activeRequests", sumGauges("http.server.requests.active"));
        // Connections and bytes.
        j.append(",\"connections\":");
        byTag(j, "server.connections.open", "service");
        field(j, "accepted", sumCounters("server.connections.accepted"));
        field(j, "rejected", sumCounters("server.connections.rejected"));
        field(j, "idleTimeouts", sumCounters("server.connections.idle.timeouts"));
        field(j, "protocolErrors", sumCounters("server.connections.protocol.errors"));
        field(j, "bytesRead", sumCounters("server.io.read"));
        field(j, "bytesWritten", sumCounters("server.io.written"));
        // Workers.
        j.append(",\"queues\":");
        byTag(j, "server.worker.queue.depth", "worker");
        field(j, "tasksCompleted", sumCounters("server.worker.tasks.completed"));
        // JVM.
        double heapUsed = 0;
        double heapMax = 0;
        for (Gauge g : registry.find("jvm.memory.used").tag("area", "heap").gauges()) {
            heapUsed += positive(g.value());
        }
        for (Gauge g : registry.find("jvm.memory.max").tag("area", "heap").gauges()) {
            heapMax += positive(g.value());
        }
        field(j, "heapUsed", heapUsed);
        field(j, "heapMax", heapMax);
        long gcCount = 0;
        double gcSeconds = 0;
        for (Timer t : registry.find("jvm.gc.pause").timers()) {
            gcCount += t.count();
            gcSeconds += t.totalTime(TimeUnit.SECONDS);
        }
        j.append(",\"gcCount\":").append(gcCount);
        field(j, "gcSeconds", gcSeconds);
        field(j, "cpu", sumGauges("process.cpu.usage"));
        field(j, "threads", sumGauges("jvm.threads.live"));
        field(j, "uptime", sumGauges("process.uptime"));
        return j.append('}').toString();
    }

    /**
     * The latency buckets of every series, summed. Every series of one {@link HttpMetrics} has the same
     * boundaries, so the counts go into a primitive array indexed by bucket; a series with other boundaries
     * (another HttpMetrics with another floor in the same registry) is merged by boundary in a map.
     */
    private final class Buckets {
        /** The first series' boundaries, in the timer's base unit (nanoseconds), and the summed counts. */
        private double[] bounds;
        private double[] counts;
        private TreeMap<Double, Double> others;

        void add(CountAtBucket[] h) {
            if (bounds == null) {
                bounds = new double[h.length];
                counts = new double[h.length];
                for (int i = 0; i < h.length; i++) {
                    bounds[i] = h[i].bucket();
                }
            }
            if (sameBounds(h)) {
                for (int i = 0; i < h.length; i++) {
                    counts[i] += h[i].count();
                }
                return;
            }
            if (others == null) {
                others = new TreeMap<>();
            }
            for (CountAtBucket b : h) {
                others.merge(b.bucket(), b.count(), Double::sum);
            }
        }

        private boolean sameBounds(CountAtBucket[] h) {
            if (h.length != bounds.length) {
                return false;
            }
            for (int i = 0; i < h.length; i++) {
                if (h[i].bucket() != bounds[i]) {
                    return false;
                }
            }
            return true;
        }

        /** A JSON array of [upper bound in seconds, cumulative count], by bound. */
        void appendTo(StringBuilder j) {
            j.append('[');
            if (bounds != null && others == null) {
                String[] texts = boundTexts(bounds);
                for (int i = 0; i < bounds.length; i++) {
                    if (i > 0) {
                        j.append(',');
                    }
                    j.append('[').append(texts[i]).append(',').append(num(counts[i])).append(']');
                }
            } else if (bounds != null) {
                for (int i = 0; i < bounds.length; i++) {
                    others.merge(bounds[i], counts[i], Double::sum);
                }
                boolean first = true;
                for (Map.Entry<Double, Double> b : others.entrySet()) {
                    if (!first) {
                        j.append(',');
                    }
                    first = false;
                    j.append('[').append(num(b.getKey() / NANOS_PER_SECOND)).append(',').append(num(b.getValue()))
                            .append(']');
                }
            }
            j.append(']');
        }
    }

    /** The bounds, formatted in seconds: the same on every call, so kept from the last one. */
    private String[] boundTexts(double[] nanos) {
        BoundTexts cached = boundTexts;
        if (cached != null && Arrays.equals(cached.nanos, nanos)) {
            return cached.texts;
        }
        String[] texts = new String[nanos.length];
        for (int i = 0; i < nanos.length; i++) {
            texts[i] = num(nanos[i] / NANOS_PER_SECOND);
        }
        boundTexts = new BoundTexts(nanos.clone(), texts);
        return texts;
    }

    private record BoundTexts(double[] nanos, String[] texts) {
    }

    private double sumGauges(String name) {
        double sum = 0;
        for (Gauge g : registry.find(name).gauges()) {
            sum += positive(g.value());
        }
        return sum;
    }

    private double sumCounters(String name) {
        double sum = 0;
        for (FunctionCounter c : registry.find(name).functionCounters()) {
            sum += positive(c.count());
        }
        for (Counter c : registry.find(name).counters()) {
            sum += positive(c.count());
        }
        return sum;
    }

    /** A JSON object of the gauges named {@code name}, keyed by {@code tag}, summed (two servers may share). */
    private void byTag(StringBuilder j, String name, String tag) {
        TreeMap<String, Double> values = new TreeMap<>(Dashboard::naturalOrder);
        for (Gauge g : registry.find(name).gauges()) {
            String key = ((Meter) g).getId().getTag(tag);
            values.merge(key == null ? "" : key, positive(g.value()), Double::sum);
        }
        j.append('{');
        boolean first = true;
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (!first) {
                j.append(',');
            }
            first = false;
            string(j, e.getKey());
            j.append(':').append(num(e.getValue()));
        }
        j.append('}');
    }

    private static int naturalOrder(String a, String b) {
        if (!a.isEmpty() && !b.isEmpty() && a.chars().allMatch(Character::isDigit) && b.chars().allMatch(Character::isDigit)
                && a.length() < 10 && b.length() < 10) {
            return Integer.compare(Integer.parseInt(a), Integer.parseInt(b));
        }
        return a.compareTo(b);
    }

    private static void field(StringBuilder j, String name, double value) {
        j.append(",\"").append(name).append("\":").append(num(value));
    }

    private static double positive(double v) {
        return Double.isNaN(v) || v < 0 ? 0 : v;
    }

    private static String num(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "0";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.9g", v);
    }

    private static void string(StringBuilder j, String s) {
        j.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                j.append('\\').append(c);
            } else if (c < 0x20) {
                j.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                j.append(c);
            }
        }
        j.append('"');
    }

    /** dashboard.html with uPlot inlined, so that the page needs nothing but itself. */
    private static byte[] page() {
        String html = text("dashboard.html");
        if (!html.contains(UPLOT_MARKER)) {
            throw new IllegalStateException("dashboard.html has no " + UPLOT_MARKER);
        }
        String css = text(UPLOT + "uPlot.min.css");
        String js = text(UPLOT + "uPlot.iife.min.js");
        return html.replace(UPLOT_MARKER, "<style>" + css + "</style>\n<script>" + js + "</script>")
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A resource of this class's package, read through the class: that finds it in this module whether the
     * jar is on the module path (where the package is not open to other modules' loaders) or the class path.
     */
    private static String text(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the metrics jar, next to "
                        + Dashboard.class.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
