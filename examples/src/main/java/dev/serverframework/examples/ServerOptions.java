package dev.serverframework.examples;

import dev.serverframework.core.Protocol;
import dev.serverframework.core.PubSub;
import dev.serverframework.core.Server;
import dev.serverframework.core.ServerBuilder;
import dev.serverframework.core.Transport;
import dev.serverframework.metrics.MetricsServer;
import dev.serverframework.metrics.ServerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The options every example server shares, mixed into each command. */
public final class ServerOptions {
    @Option(names = "--bind", description = "Address to bind (default: ${DEFAULT-VALUE}).", defaultValue = "0.0.0.0")
    String bind;

    @Option(names = "--workers", description = "Worker threads (default: number of processors).")
    Integer workers;

    @Option(names = "--io-threads", description = "I/O event-loop threads (default: number of processors).")
    Integer ioThreads;

    @Option(names = "--listeners", description = "Listening sockets with SO_REUSEPORT (default: ${DEFAULT-VALUE}).",
            defaultValue = "1")
    int listeners;

    @Option(names = "--idle-timeout", description = "Idle timeout in seconds, 0 = off (default: ${DEFAULT-VALUE}).",
            defaultValue = "5")
    long idleTimeoutSeconds;

    @Option(names = "--write-stall-timeout", paramLabel = "SECONDS",
            description = "Cut a connection whose peer takes none of its pending output for this long; "
                    + "0 = never (default: ${DEFAULT-VALUE}). A peer that stops reading is stalled, not idle.",
            defaultValue = "60")
    long writeStallTimeoutSeconds;

    @Option(names = "--linger-timeout", paramLabel = "MILLIS",
            description = "After a close's last write, how long to read and discard the peer's input until it "
                    + "closes too, so that late input cannot reset the answer (RFC 9112 9.6); 0 = close at once, "
                    + "as raw Netty does (default: ${DEFAULT-VALUE}).",
            defaultValue = "2000")
    long lingerTimeoutMillis;

    @Option(names = "--max-connections", description = "Connection limit (default: from the open-file limit).")
    Integer maxConnections;

    @Option(names = "--transport", paramLabel = "T", converter = TransportConverter.class,
            completionCandidates = TransportConverter.Names.class, defaultValue = "auto",
            description = "I/O transport: auto (native epoll, NIO where epoll is unavailable), epoll, io_uring "
                    + "(epoll where the kernel refuses io_uring, with a warning) or nio (default: ${DEFAULT-VALUE}). "
                    + "The system property serverframework.transport overrides it.")
    Transport transport;

    /** {@code --redis} of the commands that take it ({@link RedisOption}); null: in-process. */
    private String redis;

    @Option(names = "--reuse-port",
            description = "Set SO_REUSEPORT so that several processes can listen on one port, e.g. instances "
                    + "sharing channels through --redis (default: off).")
    boolean reusePort;

    @Option(names = "--metrics-port", paramLabel = "M",
            description = "Serve Prometheus /metrics and the live /dashboard on this port (default: off).")
    Integer metricsPort;

    /** The process's metrics, made by {@link #registry()} when a command wants them. */
    private PrometheusMeterRegistry registry;
    private MetricsServer metricsServer;
    /** The process's pub/sub, made by {@link #pubSub()}: every server of a command shares it. */
    private PubSub pubSub;

    /**
     * The pub/sub every server these options build uses, made on first use from {@code --redis}; the chat
     * command's two servers thus share one. On the starting thread.
     */
    PubSub pubSub() {
        if (pubSub == null) {
            pubSub = PubSubOption.pubSubFor(redis);
        }
        return pubSub;
    }

    /**
     * Clusters the servers these options build through the Redis that {@code option} names, if any. Call it
     * before the first {@link #builder}; commands whose servers share channels (chat, kv) do.
     */
    ServerOptions clusteredBy(RedisOption option) {
        if (pubSub != null && !java.util.Objects.equals(redis, option.uri)) {
            throw new IllegalStateException("the pub/sub was made before --redis was applied");
        }
        this.redis = option.uri;
        return this;
    }

    /** The start-up line about pub/sub, e.g. {@code pub/sub: in-process}. */
    String pubSubLine() {
        return "pub/sub: " + PubSubOption.describe(redis);
    }

    /** The registry the server's metrics go to, made on first use; the server binds to it when it starts. */
    PrometheusMeterRegistry registry() {
        if (registry == null) {
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        }
        return registry;
    }

    /** On the starting thread, once the server is bound: its metrics, and the metrics server if asked for. */
    private void startMetrics(Server server) {
        ServerMetrics.bind(server, registry());
        if (metricsPort != null) {
            metricsServer = MetricsServer.builder(registry()).port(metricsPort).bindAddress(bind)
                    .shutdownHook(false).start();
            System.out.printf("metrics on http://%s:%d/metrics and /dashboard%n", bind, metricsServer.port());
        }
    }

    private void stopMetrics() {
        if (metricsServer != null) {
            metricsServer.stop();
        }
    }

    /** A builder with these options and the given port and protocol applied. */
    ServerBuilder builder(int port, Protocol<?> protocol) {
        ServerBuilder b = Server.builder()
                .port(port)
                .bindAddress(bind)
                .protocol(protocol)
                .listeners(listeners)
                .reusePort(reusePort)
                .pubSub(pubSub())
                .idleTimeout(Duration.ofSeconds(idleTimeoutSeconds))
                .writeStallTimeout(Duration.ofSeconds(writeStallTimeoutSeconds))
                .lingerTimeout(Duration.ofMillis(lingerTimeoutMillis))
                .busyMessage("server busy, try again later\r\n");
        if (workers != null) {
            b.workers(workers);
        }
        if (ioThreads != null) {
            b.ioThreads(ioThreads);
        }
        if (maxConnections != null) {
            b.maxConnections(maxConnections);
        }
        b.transport(transport);
        if (metricsPort != null || registry != null) {
            b.onInit(this::startMetrics).onFinish(s -> stopMetrics());
        }
        return b;
    }

    /**
     * Reads {@code --transport} in lower case as users type it; picocli turns a bad value into a usage
     * error naming the option, before any server starts.
     */
    static final class TransportConverter implements ITypeConverter<Transport> {
        /** The values {@code --transport} takes, as {@code --help} lists them. */
        static final class Names extends ArrayList<String> {
            Names() {
                super(List.of("auto", "epoll", "io_uring", "nio"));
            }
        }

        @Override
        public Transport convert(String value) {
            if (!new Names().contains(value)) {
                throw new TypeConversionException("expected one of auto, epoll, io_uring, nio but was '" + value + "'");
            }
            return Transport.valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    /** Starts the server, tells the user where it listens, and waits until it stops. */
    static int runUntilStopped(Server server, String what) throws InterruptedException {
        server.start();
        System.out.printf("%s listening on %s:%d (transport %s, %d I/O threads, %d workers); Ctrl-C stops it%n",
                what, server.settings().bindAddress().getHostAddress(), server.port(),
                server.transport().name().toLowerCase(Locale.ROOT), server.settings().ioThreads(),
                server.settings().workers());
        server.awaitTermination();
        return 0;
    }
}
