package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Prometheus server scrapes {@code /metrics} in OpenMetrics and in the text format 0.0.4, and its API
 * then reports the target up, without a scrape error, and answers queries on our series. promtool only reads
 * the text format 0.0.4, so this is the test of the OpenMetrics output by a parser that understands it.
 *
 * <p>Prometheus 2.49+ is told the one format to ask for ({@code scrape_protocols}). Debian 12's 2.42 has no
 * such setting: it always asks for OpenMetrics first, so the OpenMetrics test checks the Accept header it
 * sent, and the text-format test has it scrape a route that serves the text format whatever it asks for.
 */
class PrometheusScrapeTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final Pattern VALUE = Pattern.compile("\"value\":\\[[0-9.]+,\"([^\"]+)\"\\]");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Queue<String> accepts = new ConcurrentLinkedQueue<>();
    private Server server;
    private ServerMetrics metrics;

    @BeforeEach
    void start() throws Exception {
        PrometheusProcess.assumeInstalled();
        PrometheusEndpoint endpoint = new PrometheusEndpoint(registry);
        HttpProtocol.Builder http = HttpProtocol.builder()
                .get("/", req -> Response.text("hi"))
                .getAsync("/metrics", req -> {
                    accepts.add(String.valueOf(req.header(HttpHeaderNames.ACCEPT)));
                    return endpoint.handle(req);
                })
                .get("/metrics/text", req -> endpoint.scrape(PrometheusEndpoint.TEXT_0_0_4));
        HttpMetrics.install(http, registry);
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(2).ioThreads(1)
                .protocol(http.build()).build().start();
        metrics = ServerMetrics.bind(server, registry);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
        }
    }

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

    @Test
    void prometheusReadsTheOpenMetricsOutput() throws Exception {
        boolean protocols = PrometheusProcess.supportsScrapeProtocols();
        try (PrometheusProcess prometheus = PrometheusProcess.start("127.0.0.1:" + server.port(), "/metrics",
                protocols ? "OpenMetricsText1.0.0" : null)) {
            assertScrapedAndQueryable(prometheus);
            String accept = accepts.peek();
            assertTrue(accept.startsWith("application/openmetrics-text;version=1.0.0"),
                    "Prometheus asked for OpenMetrics 1.0.0 first, which /metrics then serves: " + accept);
        }
    }

    @Test
    void prometheusReadsTheTextFormat() throws Exception {
        boolean protocols = PrometheusProcess.supportsScrapeProtocols();
        try (PrometheusProcess prometheus = PrometheusProcess.start("127.0.0.1:" + server.port(),
                protocols ? "/metrics" : "/metrics/text", protocols ? "PrometheusText0.0.4" : null)) {
            assertScrapedAndQueryable(prometheus);
            if (protocols) {
                assertTrue(accepts.peek().startsWith("text/plain;version=0.0.4"), accepts.peek());
            }
        }
    }

    /**
     * The target is up with no error, and our histogram's series answer queries. A scrape may fail before
     * one succeeds (a cold first scrape on a loaded machine can time out): what counts is that the target
     * becomes up with no error within the deadline.
     */
    private void assertScrapedAndQueryable(PrometheusProcess prometheus) throws IOException {
        String[] targets = {""};
        try {
            Await.until("the target is up with no scrape error", DEADLINE, () -> {
                targets[0] = body(prometheus::targets);
                return targets[0].contains("\"health\":\"up\"") && targets[0].contains("\"lastError\":\"\"")
                        && !targets[0].contains("\"health\":\"down\"");
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last /api/v1/targets: " + targets[0]
                    + "\nprometheus' log:\n" + prometheus.log(), e);
        }

        String[] count = new String[1];
        Await.until("http_server_requests_seconds_count is stored", DEADLINE, () -> {
            count[0] = value(body(() -> prometheus.query("http_server_requests_seconds_count{uri=\"/\",status=\"200\"}")));
            return count[0] != null;
        });
        assertEquals(20, Double.parseDouble(count[0]), "requests to / that Prometheus read");
        double p99 = Double.parseDouble(value(prometheus.query(
                "histogram_quantile(0.99, http_server_requests_seconds_bucket{uri=\"/\",status=\"200\"})")));
        assertTrue(p99 > 0 && p99 < 10, "p99 of the requests to / in seconds: " + p99);
    }

    private static String value(String queryResponse) {
        Matcher m = VALUE.matcher(queryResponse);
        return m.find() ? m.group(1) : null;
    }

    private interface Call {
        String get() throws IOException;
    }

    private static String body(Call call) {
        try {
            return call.get();
        } catch (IOException e) {
            return "";
        }
    }
}
