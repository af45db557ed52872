package dev.serverframework.examples;

import dev.serverframework.examples.kv.KvProtocol;
import io.micrometer.core.instrument.Gauge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code kv}: a Redis-compatible key-value server; redis-cli and redis-benchmark work against it. */
@Command(name = "kv", mixinStandardHelpOptions = true,
        description = "Redis-compatible key-value server (RESP2): try redis-cli -p PORT.")
final class KvCommand implements Callable<Integer> {
    @Option(names = "--port", description = "TCP port (default: ${DEFAULT-VALUE}).", defaultValue = "6380")
    int port;

    @Option(names = "--max-bulk-length", paramLabel = "BYTES",
            description = "Longest value or argument accepted (default: ${DEFAULT-VALUE}).", defaultValue = "67108864")
    int maxBulkLength;

    @Option(names = "--max-query-buffer", paramLabel = "BYTES",
            description = "Most bytes of unfinished requests one connection may hold; over it the client gets "
                    + "a protocol error and is closed (default: ${DEFAULT-VALUE}).",
            defaultValue = "" + KvProtocol.Builder.DEFAULT_MAX_QUERY_BUFFER)
    int maxQueryBuffer;

    @Option(names = "--max-total-query-buffer", paramLabel = "BYTES",
            description = "Most bytes of unfinished requests all connections may hold together; the client "
                    + "that would pass it gets a protocol error and is closed (default: ${DEFAULT-VALUE}).",
            defaultValue = "" + KvProtocol.Builder.DEFAULT_MAX_TOTAL_QUERY_BUFFER)
    long maxTotalQueryBuffer;

    @Mixin
    ServerOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KvProtocol kv = KvProtocol.builder().maxBulkLength(maxBulkLength).maxQueryBuffer(maxQueryBuffer)
                .maxTotalQueryBuffer(maxTotalQueryBuffer).build();
        if (options.metricsPort != null) {
            // only then: asking for the registry makes the server keep metrics, and nobody would read them
            Gauge.builder("kv.query.buffer", kv, KvProtocol::bufferedInputBytes).baseUnit("bytes")
                    .description("Bytes of unfinished requests the kv connections hold")
                    .register(options.registry());
        }
        var builder = options.builder(port, kv).busyMessage("-ERR max number of clients reached\r\n");
        if (!spec.commandLine().getParseResult().hasMatchedOption("--idle-timeout")) {
            // Redis keeps idle clients by default (timeout 0); so does kv unless told otherwise.
            builder.idleTimeout(Duration.ZERO);
        }
        return ServerOptions.runUntilStopped(builder.build(), "kv");
    }
}
