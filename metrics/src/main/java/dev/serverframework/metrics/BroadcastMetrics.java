package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerStatistics;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Objects;

/**
 * The {@link Server#each} broadcasts of a server: {@code server.broadcasts} (counter, from
 * {@link ServerStatistics#broadcasts()}) and {@code server.broadcast.fanout} (distribution summary of the
 * connections each broadcast reached, fed by a {@link ServerStatistics.BroadcastListener}). Close it to
 * remove the listener. Thread-safe.
 */
public final class BroadcastMetrics implements MeterBinder, AutoCloseable {
    private final ServerStatistics statistics;
    private final Tags tags;

    /** @param tags tags added to every meter */
    public BroadcastMetrics(Server server, Iterable<Tag> tags) {
        this.statistics = Objects.requireNonNull(server, "server").statistics();
        this.tags = Tags.of(tags);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        FunctionCounter.builder("server.broadcasts", statistics, ServerStatistics::broadcasts)
                .description("each() calls").tags(tags).register(registry);
        DistributionSummary fanout = DistributionSummary.builder("server.broadcast.fanout")
                .description("Connections reached by one each() call")
                .tags(tags).register(registry);
        statistics.broadcastListener(fanout::record);
    }

    /** Removes the broadcast listener; the meters stay. */
    @Override
    public void close() {
        statistics.broadcastListener(null);
    }
}
