package dev.serverframework.examples.bench;

import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import dev.serverframework.metrics.MetricsRoutes;
import dev.serverframework.metrics.ServerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The server the bench tests measure, in the test's JVM: "Hello World!" at {@code /}, Prometheus
 * {@code /metrics}, and the server's own metrics bound, on an ephemeral 127.0.0.1 port.
 */
final class MeteredHttpd implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Server server;
    private final ServerMetrics metrics;

    /**
     * @param idleTimeout the server's idle timeout, zero for none
     * @param routes      adds the test's own routes
     */
    MeteredHttpd(Duration idleTimeout, Consumer<HttpProtocol.Builder> routes) {
        HttpProtocol.Builder http = HttpProtocol.builder()
                .get("/", req -> Response.bytes("Hello World!".getBytes(StandardCharsets.US_ASCII), "text/plain"));
        MetricsRoutes.install(http, registry);
        routes.accept(http);
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).idleTimeout(idleTimeout)
                .protocol(http.build()).build().start();
        metrics = ServerMetrics.bind(server, registry);
    }

    Server server() {
        return server;
    }

    /** HOST:PORT. */
    String target() {
        return "127.0.0.1:" + server.port();
    }

    @Override
    public void close() throws InterruptedException {
        metrics.close();
        server.stop();
        server.awaitTermination();
        registry.close();
    }
}
