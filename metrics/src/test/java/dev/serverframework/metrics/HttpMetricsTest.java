package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.core.testing.WorkerGate;
import dev.serverframework.http.HttpObserver;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** http.server.requests has Micrometer's tags, the route template as uri, and bounded cardinality. */
class HttpMetricsTest {
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final CompletableFuture<Response> pending = new CompletableFuture<>();
    private HttpMetrics metrics;
    private Server server;

    @BeforeEach
    void start() {
        HttpProtocol.Builder http = HttpProtocol.builder()
                .get("/", req -> Response.text("hello"))
                .get("/users/{id}", req -> Response.text("user " + req.pathParam("id")))
                .post("/users/{id}", req -> Response.status(201))
                .get("/boom", req -> {
                    throw new IllegalStateException("expected by the test");
                })
                .get("/moved", req -> Response.status(302).header("Location", "/"))
                .getAsync("/slow", req -> pending);
        metrics = HttpMetrics.install(http, registry);
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(2).ioThreads(1)
                .protocol(http.build()).build().start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        pending.complete(Response.text("late"));
        server.stop();
        server.awaitTermination();
        registry.close();
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(5)).method(method, HttpRequest.BodyPublishers.noBody()).build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** The timer with exactly these tags, once the request's completion has been recorded. */
    private Timer timer(String method, String uri, String status, String outcome, long count) {
        Await.until("timer " + method + " " + uri + " " + status + " count " + count, () -> {
            Timer t = registry.find("http.server.requests")
                    .tags("method", method, "uri", uri, "status", status, "outcome", outcome).timer();
            return t != null && t.count() == count;
        });
        return registry.get("http.server.requests")
                .tags("method", method, "uri", uri, "status", status, "outcome", outcome).timer();
    }

    @Test
    void routedRequestsAreTaggedWithTheTemplateNeverThePath() throws Exception {
        assertEquals(200, send("GET", "/users/42").statusCode());
        assertEquals(200, send("GET", "/users/43?x=1").statusCode());
        assertEquals(201, send("POST", "/users/7").statusCode());
        assertEquals(200, send("GET", "/").statusCode());
        Timer users = timer("GET", "/users/{id}", "200", "SUCCESS", 2);
        assertTrue(users.totalTime(TimeUnit.NANOSECONDS) > 0, "durations are recorded");
        timer("POST", "/users/{id}", "201", "SUCCESS", 1);
        timer("GET", "/", "200", "SUCCESS", 1);
        for (Meter m : registry.find("http.server.requests").meters()) {
            String uri = m.getId().getTag("uri");
            assertTrue(!uri.contains("42") && !uri.contains("43") && !uri.contains("?"), "raw path leaked: " + uri);
        }
    }

    @Test
    void errorsRedirectsAndUnknownMethodsGetTheirOutcome() throws Exception {
        assertEquals(500, send("GET", "/boom").statusCode());
        assertEquals(302, send("GET", "/moved").statusCode());
        assertEquals(405, send("DELETE", "/users/1").statusCode());
        assertEquals(404, send("GET", "/nothing/here").statusCode());
        assertEquals(404, send("BREW", "/pot").statusCode());
        timer("GET", "/boom", "500", "SERVER_ERROR", 1);
        timer("GET", "/moved", "302", "REDIRECTION", 1);
        timer("DELETE", "/users/{id}", "405", "CLIENT_ERROR", 1);
        timer("GET", "NOT_FOUND", "404", "CLIENT_ERROR", 1);
        timer("UNKNOWN", "NOT_FOUND", "404", "CLIENT_ERROR", 1);
    }

    @Test
    void undecodableRequestIsUnknownUri() {
        try (RawClient raw = new RawClient(server.port())) {
            // Headers over the 8 KiB limit: the decoder fails the request, answered 431 and closed.
            raw.send("GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n");
            String head = new String(raw.readToEnd(), StandardCharsets.ISO_8859_1);
            assertTrue(head.startsWith("HTTP/1.1 431"), head);
        }
        timer("GET", "UNKNOWN", "431", "CLIENT_ERROR", 1);
    }

    @Test
    void twoHundredRandomPathsKeepCardinalityBounded() throws Exception {
        Random random = new Random(42);
        for (int i = 0; i < 200; i++) {
            String path = random.nextBoolean()
                    ? "/users/" + Long.toHexString(random.nextLong())
                    : "/" + Long.toHexString(random.nextLong()) + "/" + random.nextInt(1000);
            int status = send("GET", path).statusCode();
            assertTrue(status == 200 || status == 404, path + " -> " + status);
        }
        Await.until("200 requests recorded", () -> registry.find("http.server.requests").timers().stream()
                .mapToLong(Timer::count).sum() == 200);
        Collection<Timer> timers = registry.find("http.server.requests").timers();
        Set<String> uris = new TreeSet<>();
        timers.forEach(t -> uris.add(t.getId().getTag("uri")));
        assertEquals(Set.of("/users/{id}", "NOT_FOUND"), uris);
        assertEquals(2, timers.size(), "one timer per (method, uri, status)");
    }

    @Test
    void activeRequestsGaugeCountsRequestsBeingAnswered() throws Exception {
        assertEquals(0, registry.get("http.server.requests.active").gauge().value());
        CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/slow"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        Await.until("one active request", () -> registry.get("http.server.requests.active").gauge().value() == 1);
        assertEquals(1, metrics.active());
        pending.complete(Response.text("done"));
        assertEquals("done", slow.get(5, TimeUnit.SECONDS).body());
        Await.until("no active request", () -> registry.get("http.server.requests.active").gauge().value() == 0);
        assertNotNull(timer("GET", "/slow", "200", "SUCCESS", 1));
    }

    @Test
    void histogramBucketsReachDownToOneMicrosecond() {
        List<Double> bounds = bucketBounds(new HttpMetrics(List.of()));
        // Fine enough that a 30 µs request is not interpolated inside a 0-100 µs bucket.
        assertTrue(bounds.get(0) <= 1.0e-6, "smallest bucket " + bounds.get(0) + " s");
        for (int i = 1; i < bounds.size() - 1 && bounds.get(i) <= 1.0e-4; i++) {
            assertTrue(bounds.get(i) / bounds.get(i - 1) <= 1.34, "buckets " + bounds.get(i - 1) + " and " + bounds.get(i));
        }
        assertTrue(bounds.get(bounds.size() - 2) >= 10, "largest finite bucket " + bounds.get(bounds.size() - 2) + " s");
        assertEquals(106, bounds.size(), "buckets of one series, +Inf included: " + bounds);
    }

    /**
     * A request that waits for a busy worker is timed from when the I/O loop decoded it, not from when the worker
     * got to it: the wait is part of what a client sees, so it is part of http.server.requests.
     */
    @Test
    void aRequestsWaitForABusyWorkerIsTimed() throws Exception {
        MeterRegistry own = new SimpleMeterRegistry();
        HttpProtocol.Builder http = HttpProtocol.builder().get("/", req -> Response.text("hello"));
        HttpMetrics.install(http, own);
        Server one = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(1).ioThreads(1)
                .protocol(http.build()).build().start();
        try (RawClient c = new RawClient(one.port()); WorkerGate gate = WorkerGate.hold(one.workerGroup().next())) {
            String request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
            c.send(request);
            Await.until("the request read by the I/O loop",
                    () -> one.statistics().service("http").bytesRead() >= request.length());
            // The worker works 100 ms more before it gets to the request: the wait the timer must count.
            gate.open(Duration.ofMillis(100));
            assertTrue(c.readLine().startsWith("HTTP/1.1 200"));
            Await.until("the request timed", () -> own.find("http.server.requests").timer() != null
                    && own.find("http.server.requests").timer().count() == 1);
            double ms = own.get("http.server.requests").timer().totalTime(TimeUnit.MILLISECONDS);
            assertTrue(ms >= 90, "timed " + ms + " ms, but it waited 100 ms for the worker");
        } finally {
            one.stop();
            one.awaitTermination();
            own.close();
        }
    }

    /**
     * What the buckets are for: p50 and p99 computed from the scraped buckets as Prometheus'
     * histogram_quantile does (linear inside the bucket that holds the rank) stay within 25% of the exact
     * quantiles of what was recorded, for fast requests (2 to 200 µs) as for slower ones.
     */
    @Test
    void quantilesFromTheBucketsMatchTheRecordedDurationsWithin25Percent() {
        Random random = new Random(14);
        for (double[] range : new double[][] {{2_000, 200_000}, {50_000, 20_000_000}}) {
            PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            try {
                HttpMetrics m = new HttpMetrics(List.of());
                m.bindTo(prometheus);
                HttpObserver.Route route = m.route("/");
                long[] recorded = new long[20_000];
                for (int i = 0; i < recorded.length; i++) {
                    // log-uniform between the range's ends, as latencies spread
                    recorded[i] = (long) (range[0] * Math.pow(range[1] / range[0], random.nextDouble()));
                    route.completed(HttpMethod.GET, 200, recorded[i]);
                }
                Arrays.sort(recorded);
                String scrape = prometheus.scrape();
                for (double q : new double[] {0.5, 0.99}) {
                    double exact = recorded[(int) Math.ceil(q * recorded.length) - 1] / 1e9;
                    double fromBuckets = histogramQuantile(q, scrape);
                    assertTrue(Math.abs(fromBuckets - exact) <= 0.25 * exact,
                            "q" + q + ": " + fromBuckets + " s from the buckets, " + exact + " s recorded");
                }
            } finally {
                prometheus.close();
            }
        }
    }

    /** Prometheus' histogram_quantile over the cumulative buckets of http_server_requests_seconds in a scrape. */
    private static double histogramQuantile(double q, String scrape) {
        Matcher bucket = Pattern.compile("http_server_requests_seconds_bucket\\{[^}]*le=\"([^\"]+)\"} ([0-9.eE+]+)")
                .matcher(scrape);
        List<double[]> buckets = new ArrayList<>();
        while (bucket.find()) {
            double le = bucket.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bucket.group(1));
            buckets.add(new double[] {le, Double.parseDouble(bucket.group(2))});
        }
        double total = buckets.get(buckets.size() - 1)[1];
        double rank = q * total;
        double lower = 0;
        double below = 0;
        for (double[] b : buckets) {
            if (b[1] >= rank) {
                return lower + (b[0] - lower) * (rank - below) / (b[1] - below);
            }
            lower = b[0];
            below = b[1];
        }
        throw new AssertionError("no bucket holds rank " + rank);
    }

    @Test
    void aServerOfSlowerRequestsCanChooseACoarserHistogram() {
        List<Double> bounds = bucketBounds(new HttpMetrics(List.of(), Duration.ofNanos(100_000)));
        assertTrue(bounds.get(0) >= 1.0e-4 && bounds.get(0) < 1.4e-4, "smallest bucket " + bounds.get(0) + " s");
        assertEquals(77, bounds.size(), "buckets of one series, +Inf included: " + bounds);
        assertThrows(IllegalArgumentException.class, () -> new HttpMetrics(List.of(), Duration.ofNanos(999)));
        assertThrows(IllegalArgumentException.class, () -> new HttpMetrics(List.of(), Duration.ofSeconds(10)));
    }

    /** The {@code le} bounds of one series' buckets in the Prometheus text, after one 30 µs request. */
    private static List<Double> bucketBounds(HttpMetrics m) {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try {
            m.bindTo(prometheus);
            m.route("/").completed(HttpMethod.GET, 200, 30_000);
            List<Double> bounds = new ArrayList<>();
            Matcher le = Pattern.compile("http_server_requests_seconds_bucket\\{[^}]*le=\"([^\"]+)\"").matcher(prometheus.scrape());
            while (le.find()) {
                bounds.add(le.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1)));
            }
            return bounds;
        } finally {
            prometheus.close();
        }
    }
}
