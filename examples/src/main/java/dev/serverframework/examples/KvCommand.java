package dev.serverframework.examples;

import dev.serverframework.examples.kv.KvProtocol;
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

    @Mixin
    ServerOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KvProtocol kv = KvProtocol.builder().maxBulkLength(maxBulkLength).build();
        var builder = options.builder(port, kv).busyMessage("-ERR max number of clients reached\r\n");
        if (!spec.commandLine().getParseResult().hasMatchedOption("--idle-timeout")) {
            // Redis keeps idle clients by default (timeout 0); so does kv unless told otherwise.
            builder.idleTimeout(Duration.ZERO);
        }
        return ServerOptions.runUntilStopped(builder.build(), "kv");
    }
}
