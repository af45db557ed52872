package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerStatistics;
import dev.serverframework.core.ServiceStatistics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bytes read and written by a {@link Server}'s connections, by service, read from its
 * {@link ServerStatistics}: {@code server.io.read} and {@code server.io.written} (counters in bytes, tag
 * {@code service}; {@code server_io_read_bytes_total} in Prometheus). New services get meters at the
 * next {@link #refresh()}. Thread-safe.
 */
public final class ByteMetrics implements MeterBinder {
    private final ServerStatistics statistics;
    private final Tags tags;
    private final Set<String> bound = ConcurrentHashMap.newKeySet();
    private volatile MeterRegistry registry;

    /** @param tags tags added to every meter */
    public ByteMetrics(Server server, Iterable<Tag> tags) {
        this.statistics = Objects.requireNonNull(server, "server").statistics();
        this.tags = Tags.of(tags);
        statistics.service(server.settings().protocol().service());
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
        refresh();
    }

    /** Registers the meters of services seen since the last call. Any thread. */
    public void refresh() {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        for (ServiceStatistics s : statistics.services()) {
            if (bound.add(s.name())) {
                FunctionCounter.builder("server.io.read", s, ServiceStatistics::bytesRead)
                        .description("Bytes read from the connections (before decoding; after TLS)")
                        .baseUnit(BaseUnits.BYTES).tags(tags).tag("service", s.name()).register(r);
                FunctionCounter.builder("server.io.written", s, ServiceStatistics::bytesWritten)
                        .description("Bytes handed to the transport for the connections")
                        .baseUnit(BaseUnits.BYTES).tags(tags).tag("service", s.name()).register(r);
            }
        }
    }
}
