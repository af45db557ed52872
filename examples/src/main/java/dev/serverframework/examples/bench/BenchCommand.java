package dev.serverframework.examples.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bench}: load generators that measure a server and say how far to trust the figures. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: 'bench http' compares keep-alive and close under load; 'bench connections' "
                + "holds N idle connections and measures latency and memory per connection; 'bench stop' asks a "
                + "server to stop under keep-alive load and says how each connection ended; 'bench broadcast' has a "
                + "server broadcast to N WebSockets and measures deliveries/s, latency and memory per connection; 'bench pubsub' measures "
                + "cross-instance publish/subscribe latency through Redis.",
        subcommands = {HttpBenchCommand.class, ConnectionsBenchCommand.class, ConnectionsWorker.class,
                StopProbeCommand.class, BroadcastBenchCommand.class, BroadcastWorker.class, PubSubBenchCommand.class})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    /** Without a benchmark named: a usage error (2), as {@code server-framework-examples} without a command. */
    @Override
    public void run() {
        String names = spec.subcommands().entrySet().stream()
                .filter(e -> !e.getValue().getCommandSpec().usageMessage().hidden())
                .map(java.util.Map.Entry::getKey).collect(java.util.stream.Collectors.joining(", "));
        throw new ParameterException(spec.commandLine(), "a benchmark is required: " + names);
    }
}
