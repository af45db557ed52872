package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The standalone metrics server serves a non-HTTP server's metrics and dashboard on its own port. */
class MetricsServerTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Server lines;
    private MetricsServer metricsServer;
    private ServerMetrics metrics;

    @AfterEach
    void stop() throws InterruptedException {
        if (metrics != null) {
            metrics.close();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        if (lines != null) {
            lines.stop();
            lines.awaitTermination();
        }
        registry.close();
    }

    private String get(String path) throws Exception {
        HttpResponse<String> res = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + metricsServer.port() + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), path);
        return res.body();
    }

    @Test
    void metricsOfALineServerOnTheirOwnPort() throws Exception {
        lines = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(1).ioThreads(1)
                .protocol(new LineProtocol("line", (c, l) -> c.write(l + "\n"))).build().start();
        metrics = ServerMetrics.bind(lines, registry);
        metricsServer = MetricsServer.builder(registry).port(0).bindAddress("127.0.0.1").shutdownHook(false).start();
        assertTrue(metricsServer.port() > 0 && metricsServer.port() != lines.port());

        try (RawClient c = new RawClient(lines.port())) {
            c.send("ping\n");
            assertEquals("ping", c.readLine());
            Await.until("the line connection is counted", () -> lines.count("line") == 1);
            List<Scrapes.Sample> samples = Scrapes.parse(get("/metrics"), false);
            assertEquals(1, Scrapes.value(samples, "server_connections_open", "service", "line"));
            assertEquals(5, Scrapes.value(samples, "server_io_read_bytes_total", "service", "line"));
            // The metrics server's own connection is not one of the watched server's.
            assertTrue(samples.stream().noneMatch(s -> "metrics".equals(s.labels().get("service"))));

            String data = get("/dashboard/data");
            assertTrue(data.contains("\"connections\":{\"line\":1}"), data);
            String page = get("/dashboard");
            assertTrue(page.contains("id=\"c-rps\"") && page.contains("var uPlot"), "the page, with uPlot inlined");
            assertFalse(page.contains(" src=") || page.contains("<!-- uPlot -->"), "nothing to load from elsewhere");
        }
    }

    @Test
    void dashboardCanBeLeftOut() throws Exception {
        metricsServer = MetricsServer.builder(registry).port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .dashboard(false).start();
        Scrapes.parse(get("/metrics"), false);
        HttpResponse<String> res = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metricsServer.port() + "/dashboard")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, res.statusCode());
    }
}
