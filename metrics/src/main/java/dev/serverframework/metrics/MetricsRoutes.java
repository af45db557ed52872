package dev.serverframework.metrics;

import dev.serverframework.http.HttpProtocol;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Adds the metrics routes to any {@link HttpProtocol}: {@code GET /metrics} (the Prometheus scrape,
 * see {@link PrometheusEndpoint}), {@code GET /dashboard} (the live page) and {@code GET /dashboard/data}
 * (its JSON, see {@link Dashboard}).
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * HttpProtocol.Builder http = HttpProtocol.builder().get("/", ...);
 * MetricsRoutes.install(http, registry);   // routes, and the HTTP metrics of this protocol
 * Server server = Server.builder().protocol(http.build())...build().start();
 * ServerMetrics.bind(server, registry);
 * }</pre>
 */
public final class MetricsRoutes {
    static final String METRICS = "/metrics";
    static final String DASHBOARD = "/dashboard";
    static final String DASHBOARD_DATA = "/dashboard/data";

    private MetricsRoutes() {
    }

    /**
     * Adds {@code /metrics}, {@code /dashboard} and {@code /dashboard/data}, and {@link HttpMetrics} as the
     * builder's observer. Call it before {@link HttpProtocol.Builder#build()}.
     */
    public static HttpProtocol.Builder install(HttpProtocol.Builder builder, PrometheusMeterRegistry registry) {
        HttpMetrics.install(builder, registry);
        prometheus(builder, registry);
        return dashboard(builder, registry);
    }

    /** Adds {@code GET /metrics} only. */
    public static HttpProtocol.Builder prometheus(HttpProtocol.Builder builder, PrometheusMeterRegistry registry) {
        PrometheusEndpoint endpoint = new PrometheusEndpoint(registry);
        return builder.getAsync(METRICS, endpoint::handle);
    }

    /** Adds {@code GET /dashboard} and {@code GET /dashboard/data} only. */
    public static HttpProtocol.Builder dashboard(HttpProtocol.Builder builder, MeterRegistry registry) {
        Dashboard dashboard = new Dashboard(registry);
        return builder.get(DASHBOARD, dashboard::page).get(DASHBOARD_DATA, dashboard::data);
    }
}
