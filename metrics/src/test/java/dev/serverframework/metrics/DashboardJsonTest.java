package dev.serverframework.metrics;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dashboard.json() sums the latency buckets of every http.server.requests series by bound. */
class DashboardJsonTest {
    private static final Pattern BUCKETS = Pattern.compile("\"latencyBuckets\":\\[(.*?)\\]\\]");
    private static final Pattern PAIR = Pattern.compile("\\[([^,\\]]+),([^\\]]+)\\]");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @AfterEach
    void close() {
        registry.close();
    }

    @Test
    void seriesWithTheSameBoundsAreSummedBucketByBucket() {
        HttpMetrics m = new HttpMetrics(List.of());
        m.bindTo(registry);
        for (int route = 0; route < 3; route++) {
            for (int status : new int[] {200, 404}) {
                m.route("/r" + route).completed(HttpMethod.GET, status, 30_000);   // 30 µs
                m.route("/r" + route).completed(HttpMethod.GET, status, 3_000_000); // 3 ms
            }
        }
        Dashboard dashboard = new Dashboard(registry);
        dashboard.json();
        Map<Double, Double> buckets = buckets(dashboard.json()); // the second call uses the cached bound texts
        assertEquals(105, buckets.size(), "one entry per bound: " + buckets);
        assertEquals(expected(), buckets);
        assertEquals(12, buckets.get(10.0), "every request under 10 s");
        assertTrue(dashboard.json().contains("\"requests\":12"));
    }

    /** The monitoring routes' own requests (a scrape takes milliseconds) stay out of the page's figures. */
    @Test
    void theMonitoringRoutesAreLeftOut() {
        HttpMetrics m = new HttpMetrics(List.of());
        m.bindTo(registry);
        m.route("/").completed(HttpMethod.GET, 200, 30_000);
        for (String monitoring : List.of("/metrics", "/dashboard", "/dashboard/data")) {
            m.route(monitoring).completed(HttpMethod.GET, 200, 3_000_000);
        }
        String json = new Dashboard(registry).json();
        assertTrue(json.contains("\"requests\":1,"), json);
        assertEquals(1, buckets(json).get(10.0), "only the application's request: " + json);
    }

    @Test
    void seriesWithOtherBoundsAreMergedByBound() {
        HttpMetrics fine = new HttpMetrics(List.of());
        fine.bindTo(registry);
        HttpMetrics coarse = new HttpMetrics(List.of(io.micrometer.core.instrument.Tag.of("server", "coarse")),
                Duration.ofNanos(100_000));
        coarse.bindTo(registry);
        fine.route("/").completed(HttpMethod.GET, 200, 30_000);
        coarse.route("/").completed(HttpMethod.GET, 200, 3_000_000);
        Map<Double, Double> buckets = buckets(new Dashboard(registry).json());
        assertEquals(expected(), buckets);
        assertEquals(2, buckets.get(10.0));
    }

    /** The same sum, the slow way: every snapshot's buckets merged in a map by bound in seconds. */
    private Map<Double, Double> expected() {
        TreeMap<Double, Double> sum = new TreeMap<>();
        for (Timer t : registry.find("http.server.requests").timers()) {
            for (var b : t.takeSnapshot().histogramCounts()) {
                sum.merge(Double.parseDouble(String.format(java.util.Locale.ROOT, "%.9g", b.bucket(TimeUnit.SECONDS))),
                        b.count(), Double::sum);
            }
        }
        return sum;
    }

    private static Map<Double, Double> buckets(String json) {
        Matcher m = BUCKETS.matcher(json);
        assertTrue(m.find(), json);
        Map<Double, Double> buckets = new TreeMap<>();
        Matcher p = PAIR.matcher(m.group(1) + "]");
        while (p.find()) {
            buckets.put(Double.parseDouble(p.group(1)), Double.parseDouble(p.group(2)));
        }
        return buckets;
    }
}
