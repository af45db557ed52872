package dev.serverframework.metrics;

import dev.serverframework.core.Protocol;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /metrics: parseable 0.0.4 text by default, OpenMetrics on request, scraped on a worker. */
class PrometheusEndpointTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Set<String> scrapeThreads = ConcurrentHashMap.newKeySet();
    private Server server;
    private ServerMetrics metrics;

    @AfterEach
    void stop() throws InterruptedException {
        if (metrics != null) {
            metrics.close();
        }
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
        registry.close();
    }

    private void start(Protocol.Execution execution) {
        HttpProtocol.Builder http = HttpProtocol.builder().execution(execution).get("/", req -> Response.text("hi"));
        MetricsRoutes.install(http, registry);
        // Read at every scrape: tells which thread scraped.
        Gauge.builder("test.scrape.thread", scrapeThreads, s -> {
            s.add(Thread.currentThread().getName());
            return 1;
        }).register(registry);
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(2).ioThreads(1)
                .protocol(http.build()).build().start();
        metrics = ServerMetrics.bind(server, registry);
    }

    private HttpResponse<String> get(String path, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(5));
        if (accept != null) {
            b.header("Accept", accept);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void defaultIsTheTextFormat004AndEveryLineParses() throws Exception {
        start(Protocol.Execution.WORKER);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, get("/", null).statusCode());
        }
        Await.until("3 requests recorded", () -> registry.find("http.server.requests").tag("uri", "/").timer() != null
                && registry.find("http.server.requests").tag("uri", "/").timer().count() == 3);
        HttpResponse<String> res = get("/metrics", null);
        assertEquals(200, res.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", res.headers().firstValue("Content-Type").orElse(""));
        List<Scrapes.Sample> samples = Scrapes.parse(res.body(), false);
        assertEquals(3, Scrapes.value(samples, "http_server_requests_seconds_count",
                "method", "GET", "uri", "/", "status", "200", "outcome", "SUCCESS"));
        assertTrue(Scrapes.value(samples, "http_server_requests_seconds_bucket", "uri", "/", "le", "+Inf") == 3,
                "the histogram's +Inf bucket counts every request");
        assertEquals(1, Scrapes.value(samples, "server_connections_open", "service", "http"));
        assertTrue(Scrapes.value(samples, "server_connections_accepted_total") >= 1);
        assertTrue(Scrapes.value(samples, "server_io_read_bytes_total", "service", "http") > 0);
        assertTrue(samples.stream().filter(s -> s.name().equals("jvm_memory_used_bytes")
                && "heap".equals(s.labels().get("area"))).mapToDouble(Scrapes.Sample::value).sum() > 0, "JVM heap");
        assertTrue(samples.stream().anyMatch(s -> s.name().startsWith("netty_eventexecutor_tasks_pending")));
        assertTrue(samples.stream().anyMatch(s -> s.name().startsWith("server_worker_queue_depth")));
    }

    @Test
    void openMetricsWhenAcceptAsksForIt() throws Exception {
        start(Protocol.Execution.WORKER);
        // What Prometheus 2.x sends.
        HttpResponse<String> res = get("/metrics", "application/openmetrics-text;version=1.0.0,"
                + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertEquals(200, res.statusCode());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"),
                res.headers().firstValue("Content-Type").orElse(""));
        List<Scrapes.Sample> samples = Scrapes.parse(res.body(), true);
        assertTrue(Scrapes.value(samples, "server_connections_accepted_total") >= 1);
        assertTrue(res.body().contains("# TYPE server_connections_accepted counter"), "OpenMetrics counter family");
    }

    @Test
    void scrapeRunsOnAWorkerInWorkerMode() throws Exception {
        start(Protocol.Execution.WORKER);
        assertEquals(200, get("/metrics", null).statusCode());
        assertFalse(scrapeThreads.isEmpty());
        scrapeThreads.forEach(t -> assertTrue(t.startsWith("sf-worker"), "scraped on " + t));
    }

    @Test
    void scrapeRunsOnAWorkerEvenWhenHandlersRunOnTheIoLoop() throws Exception {
        start(Protocol.Execution.IO_LOOP);
        HttpResponse<String> res = get("/metrics", null);
        assertEquals(200, res.statusCode());
        Scrapes.parse(res.body(), false);
        assertFalse(scrapeThreads.isEmpty());
        scrapeThreads.forEach(t -> assertTrue(t.startsWith("sf-worker"), "scraped on " + t));
    }
}
