/**
 * Metrics for server-framework: {@link dev.serverframework.metrics.ServerMetrics} binds a server's counters,
 * its workers and its HTTP requests to a Micrometer registry, and {@link dev.serverframework.metrics.MetricsServer}
 * serves them to Prometheus with a live dashboard.
 */
// Micrometer's jars name their modules in their manifests only: users of this API (MeterRegistry) read
// them, so they are required transitively, which javac warns about for automatic modules.
@SuppressWarnings("requires-transitive-automatic")
module dev.serverframework.metrics {
    requires transitive dev.serverframework.core;
    requires transitive dev.serverframework.http;
    requires transitive micrometer.core;
    requires transitive micrometer.registry.prometheus;
    requires org.slf4j;

    exports dev.serverframework.metrics;
}
