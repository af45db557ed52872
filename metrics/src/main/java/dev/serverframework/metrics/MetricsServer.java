package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Objects;

/**
 * A small HTTP server of its own for {@code /metrics} (and by default {@code /dashboard}), for servers
 * whose protocol is not HTTP. Built with this framework's http module: one I/O thread and one worker, so
 * scrapes never run on an I/O loop and never on the watched server's threads.
 *
 * <pre>{@code
 * Server echo = Server.builder().port(7007).protocol(new EchoProtocol()).build().start();
 * ServerMetrics.bind(echo, registry);
 * MetricsServer metrics = MetricsServer.start(9100, registry);
 * }</pre>
 *
 * Thread-safe.
 */
public final class MetricsServer implements AutoCloseable {
    private final Server server;

    private MetricsServer(Server server) {
        this.server = server;
    }

    /** Starts a metrics server on {@code port} (0: any free port) of every address, with the dashboard. */
    public static MetricsServer start(int port, PrometheusMeterRegistry registry) {
        return builder(registry).port(port).start();
    }

    /** Starts building a metrics server for {@code registry}. */
    public static Builder builder(PrometheusMeterRegistry registry) {
        return new Builder(registry);
    }

    /** The bound port. */
    public int port() {
        return server.port();
    }

    /** The underlying server. */
    public Server server() {
        return server;
    }

    /** Stops without waiting. */
    public void stop() {
        server.stop();
    }

    /** Stops and waits until it has stopped. */
    @Override
    public void close() throws InterruptedException {
        server.stop();
        server.awaitTermination();
    }

    /** Settings of a {@link MetricsServer}. Not thread-safe. */
    public static final class Builder {
        private final PrometheusMeterRegistry registry;
        private int port = 9100;
        private String bindAddress = "0.0.0.0";
        private boolean dashboard = true;
        private boolean shutdownHook = true;

        private Builder(PrometheusMeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /** TCP port; default 9100, 0 for any free port. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Address to bind; default every address. */
        public Builder bindAddress(String address) {
            this.bindAddress = Objects.requireNonNull(address, "bindAddress");
            return this;
        }

        /** Whether to serve {@code /dashboard} too; default true. */
        public Builder dashboard(boolean on) {
            this.dashboard = on;
            return this;
        }

        /** Whether SIGINT/SIGTERM stop it; default true. */
        public Builder shutdownHook(boolean install) {
            this.shutdownHook = install;
            return this;
        }

        /** Binds and starts it; returns once it accepts connections. */
        public MetricsServer start() {
            HttpProtocol.Builder http = HttpProtocol.builder().service("metrics");
            MetricsRoutes.prometheus(http, registry);
            if (dashboard) {
                MetricsRoutes.dashboard(http, registry);
            }
            Server server = Server.builder()
                    .port(port)
                    .bindAddress(bindAddress)
                    .ioThreads(1)
                    .workers(1)
                    .idleTimeout(Duration.ofSeconds(60))
                    .shutdownGrace(Duration.ofSeconds(2))
                    .shutdownHook(shutdownHook)
                    .protocol(http.build())
                    .build();
            return new MetricsServer(server.start());
        }
    }
}
