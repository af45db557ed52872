package dev.serverframework.examples;

import dev.serverframework.examples.kv.KvProtocol;
import io.micrometer.core.instrument.Gauge;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kv}: a Redis-compatible key-value server; redis-cli and redis-benchmark work against it. */
@Command(name = "kv", mixinStandardHelpOptions = true, defaultValueProvider = KvCommand.Defaults.class,
        description = {"Redis-compatible key-value server (RESP2): try redis-cli -p PORT.",
                "PUBLISH/SUBSCRIBE channels are shared with the other instances on the same --redis; "
                        + "PUBLISH's count is this instance's subscribers (as Redis Cluster's is the node's). "
                        + "Channel names must be valid UTF-8."})
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

    @Mixin
    RedisOption redis;

    @Spec
    CommandSpec spec;

    /** The option of each {@link KvProtocol.Builder} setting, for {@link OptionChecks}. */
    static final Map<String, String> OPTIONS = Map.of("maxBulkLength", "--max-bulk-length",
            "maxQueryBuffer", "--max-query-buffer", "maxTotalQueryBuffer", "--max-total-query-buffer");

    /** Runs the kv server until it is stopped. On the main thread. */
    @Override
    public Integer call() throws Exception {
        KvProtocol kv = OptionChecks.check(spec, OPTIONS, () -> KvProtocol.builder().maxBulkLength(maxBulkLength)
                .maxQueryBuffer(maxQueryBuffer).maxTotalQueryBuffer(maxTotalQueryBuffer).build());
        if (options.metricsPort != null) {
            // only then: asking for the registry makes the server keep metrics, and nobody would read them
            Gauge.builder("kv.query.buffer", kv, KvProtocol::bufferedInputBytes).baseUnit("bytes")
                    .description("Bytes of unfinished requests the kv connections hold")
                    .register(options.registry());
        }
        var server = options.clusteredBy(redis).builder("--port", port, kv).build();
        // after the start, like chat's: a kv that failed to start has no pub/sub to speak of
        return options.runUntilStopped(server, "kv", options.pubSubLine());
    }

    /**
     * kv's own defaults for options it shares with the other servers: Redis keeps idle clients by default
     * (its {@code timeout} is 0), so kv's idle timeout is off unless asked for. A default value provider
     * rather than a check after parsing, so that {@code --help} shows the default that applies.
     */
    static final class Defaults implements IDefaultValueProvider {
        /** {@code 0} for {@code --idle-timeout}; the option's own default for the others. */
        @Override
        public String defaultValue(ArgSpec argSpec) {
            if (argSpec instanceof OptionSpec option && option.longestName().equals("--idle-timeout")) {
                return "0";
            }
            return null; // the option's own defaultValue
        }
    }
}
