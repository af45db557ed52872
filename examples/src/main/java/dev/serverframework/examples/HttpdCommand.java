package dev.serverframework.examples;

import dev.serverframework.core.Protocol;
import dev.serverframework.examples.bench.BroadcastEndpoint;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import dev.serverframework.metrics.MetricsRoutes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code httpd}: "Hello World!" at {@code /}, optionally a static directory under {@code /static} and
 * {@code bench broadcast}'s endpoint ({@code --broadcast-bench}), and its metrics at {@code /metrics}
 * (Prometheus) and {@code /dashboard} unless {@code --no-metrics}.
 */
@Command(name = "httpd", mixinStandardHelpOptions = true,
        description = "HTTP/1.1 server: \"Hello World!\" at /, a static directory under /static, "
                + "Prometheus /metrics and a live /dashboard.")
final class HttpdCommand implements Callable<Integer> {
    private static final byte[] HELLO = "Hello World!".getBytes(StandardCharsets.US_ASCII);

    @Option(names = "--port", description = "TCP port (default: ${DEFAULT-VALUE}).", defaultValue = "8080")
    int port;

    @Option(names = "--static", paramLabel = "DIR", description = "Serve this directory under /static.")
    Path staticDir;

    @Option(names = "--mode", description = "Where handlers run: worker or io (default: ${DEFAULT-VALUE}).",
            defaultValue = "worker")
    String mode;

    @Option(names = "--no-metrics", negatable = false,
            description = "Serve no /metrics or /dashboard and keep no request metrics.")
    boolean noMetrics;

    @Option(names = "--broadcast-bench", negatable = false,
            description = "Serve 'bench broadcast''s WebSocket endpoint at /ws and its control route "
                    + "POST /ws/broadcast, which has the server broadcast to every socket on request: "
                    + "for benchmarks only.")
    boolean broadcastBench;

    @Mixin
    ServerOptions options;

    @Spec
    CommandSpec spec;

    /** Runs the HTTP server until it is stopped. On the main thread. */
    @Override
    public Integer call() throws Exception {
        Protocol.Execution execution = switch (mode) {
            case "worker" -> Protocol.Execution.WORKER;
            case "io" -> Protocol.Execution.IO_LOOP;
            default -> throw new ParameterException(spec.commandLine(), "--mode must be worker or io, got " + mode);
        };
        if (noMetrics && options.metricsPort != null) {
            throw OptionChecks.conflict(spec, "--no-metrics", "--metrics-port",
                    "one asks for no metrics, the other serves them");
        }
        if (staticDir != null && !Files.isDirectory(staticDir)) {
            throw new ParameterException(spec.commandLine(), "--static " + staticDir + " is not a directory");
        }
        HttpProtocol.Builder http = HttpProtocol.builder()
                .execution(execution)
                .get("/", req -> Response.bytes(HELLO, "text/plain"));
        if (staticDir != null) {
            http.staticFiles("/static", staticDir);
        }
        if (broadcastBench) {
            BroadcastEndpoint.install(http, null);
        }
        if (!noMetrics) {
            // Routes and request metrics now; the server's own metrics bind once it has started.
            MetricsRoutes.install(http, options.registry());
        }
        return options.runUntilStopped(options.builder("--port", port, http.build()).build(), "httpd");
    }
}
