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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options every example server shares, mixed into each command, and the way a command starts its
 * servers: every option checked before anything starts, and on a failure after a server started, nothing
 * left running. On the command's thread.
 */
public final class ServerOptions {
    /** The option that sets each {@link ServerBuilder} setting, for {@link OptionChecks}. */
    static final Map<String, String> OPTIONS = Map.of("bindAddress", "--bind", "workers", "--workers",
            "ioThreads", "--io-threads", "listeners", "--listeners", "idleTimeout", "--idle-timeout",
            "writeStallTimeout", "--write-stall-timeout", "lingerTimeout", "--linger-timeout",
            "maxConnections", "--max-connections");

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

    @Mixin
    TlsOptions tls;

    /** The command these options are mixed into, whose usage errors they report. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    /** The fixed ports this command's servers take so far, and the option each came from. */
    private final Map<Integer, String> ports = new HashMap<>();

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

    /**
     * Usage errors among these options, before anything is built: options that contradict each other, and
     * {@code --metrics-port} out of range.
     */
    private void check() {
        tls.check(spec);
        if (transport == Transport.NIO && (listeners > 1 || reusePort)) {
            throw OptionChecks.conflict(spec, "--transport nio", listeners > 1 ? "--listeners " + listeners : "--reuse-port",
                    "SO_REUSEPORT needs a native transport (epoll or io_uring)");
        }
        if (metricsPort != null) {
            OptionChecks.check(spec, Map.of("port", "--metrics-port"), () -> Server.builder().port(metricsPort));
        }
    }

    /**
     * A usage error unless {@code port} is a port number that no other server of the command was given: two
     * on one fixed port could never both bind. {@link #builder} calls it; a command with several servers
     * calls it for the later ones first, so that every usage error comes before the TLS files are read.
     */
    void checkPort(String option, int port) {
        OptionChecks.check(spec, Map.of("port", option), () -> Server.builder().port(port));
        if (port == 0) {
            return;
        }
        String other = metricsPort != null && metricsPort == port ? "--metrics-port" : ports.putIfAbsent(port, option);
        if (other != null && !other.equals(option)) {
            throw OptionChecks.conflict(spec, option + " " + port, other + " " + port,
                    "two servers cannot listen on one port");
        }
    }

    /**
     * A builder with these options and the given port and protocol applied, each option checked by the
     * builder's own checks: a bad value is a usage error naming the option. The first server a command builds
     * (the one it passes first to {@link #start}) stops the metrics server when it finishes.
     *
     * @param portOption the option {@code port} came from, e.g. {@code --port}
     * @throws IllegalStateException when the TLS files cannot be used (a runtime error naming the file)
     */
    ServerBuilder builder(String portOption, int port, Protocol<?> protocol) {
        check();
        checkPort(portOption, port);
        Map<String, String> options = new HashMap<>(OPTIONS);
        options.put("port", portOption);
        ServerBuilder b = OptionChecks.check(spec, options, () -> {
            ServerBuilder checked = Server.builder()
                    .port(port)
                    .bindAddress(bind)
                    .listeners(listeners)
                    .idleTimeout(Duration.ofSeconds(idleTimeoutSeconds))
                    .writeStallTimeout(Duration.ofSeconds(writeStallTimeoutSeconds))
                    .lingerTimeout(Duration.ofMillis(lingerTimeoutMillis));
            if (workers != null) {
                checked.workers(workers);
            }
            if (ioThreads != null) {
                checked.ioThreads(ioThreads);
            }
            if (maxConnections != null) {
                checked.maxConnections(maxConnections);
            }
            return checked;
        });
        b.protocol(protocol)
                .reusePort(reusePort)
                .pubSub(pubSub())
                .transport(transport)
                .tls(tls.context())
                .busyMessage("server busy, try again later\r\n")
                .onFinish(s -> stopMetrics());
        return b;
    }

    /**
     * Starts the metrics server of {@code --metrics-port} first (it needs only the registry), so that a taken
     * metrics port fails before any server opens its port; then {@code servers} in order, then the first
     * server's meters. When one fails, stops those already started and the metrics server and waits for them,
     * so that nothing is left listening and no shutdown hook runs at exit, then rethrows.
     */
    void start(Server... servers) throws InterruptedException {
        startMetricsServer();
        List<Server> started = new ArrayList<>();
        try {
            for (Server server : servers) {
                server.start();
                started.add(server);
            }
            bindMeters(servers[0]);
        } catch (RuntimeException e) {
            for (Server server : started) {
                server.stop();
            }
            for (Server server : started) {
                server.awaitTermination();
            }
            if (metricsServer != null) {
                metricsServer.close();
            }
            throw e;
        }
        if (metricsServer != null) {
            System.out.printf("metrics on http://%s:%d/metrics and /dashboard%s%n", bind, metricsServer.port(),
                    tls.on() ? " (plain HTTP: TLS options do not apply to the metrics port)" : "");
        }
    }

    /** The metrics server of {@code --metrics-port}, if asked for: a runtime error naming the option if it cannot bind. */
    private void startMetricsServer() {
        if (metricsPort == null) {
            return;
        }
        try {
            metricsServer = MetricsServer.builder(registry()).port(metricsPort).bindAddress(bind)
                    .shutdownHook(false).start();
        } catch (RuntimeException e) {
            throw new IllegalStateException("metrics server on --metrics-port " + metricsPort + ": "
                    + e.getMessage(), e);
        }
    }

    /** Once the server is bound: its meters, in the registry the metrics server (if any) already serves. */
    private void bindMeters(Server server) {
        if (metricsPort == null && registry == null) {
            return;
        }
        ServerMetrics.bind(server, registry());
    }

    private void stopMetrics() {
        if (metricsServer != null) {
            metricsServer.stop();
        }
    }

    /** For start-up lines: TLS if on, the transport really in use and the threads. */
    String details(Server server) {
        return (tls.on() ? tls.describe() + ", " : "") + String.format("transport %s, %d I/O threads, %d workers",
                server.transport().name().toLowerCase(Locale.ROOT), server.settings().ioThreads(),
                server.settings().workers());
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

    /**
     * Starts the server, tells the user where it listens, then {@code lines} (printed only once it started),
     * and waits until it stops.
     */
    int runUntilStopped(Server server, String what, String... lines) throws InterruptedException {
        start(server);
        System.out.printf("%s listening on %s:%d (%s); Ctrl-C stops it%n",
                what, server.settings().bindAddress().getHostAddress(), server.port(), details(server));
        for (String line : lines) {
            System.out.println(line);
        }
        server.awaitTermination();
        return 0;
    }
}
