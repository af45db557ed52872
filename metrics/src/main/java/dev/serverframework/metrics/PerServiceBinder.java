package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerStatistics;
import dev.serverframework.core.ServiceStatistics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A binder with meters per service of a {@link Server}: services appear at run time (a protocol
 * switch), so each gets its meters at the first {@link #refresh()} after it is seen. Thread-safe.
 */
abstract class PerServiceBinder implements MeterBinder {
    final ServerStatistics statistics;
    final Tags tags;
    private final Set<String> bound = ConcurrentHashMap.newKeySet();
    private volatile MeterRegistry registry;

    PerServiceBinder(Server server, Iterable<Tag> tags) {
        this.statistics = Objects.requireNonNull(server, "server").statistics();
        this.tags = Tags.of(tags);
        // The main protocol's service gets its meters at once, before its first connection.
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
                bindService(r, s);
            }
        }
    }

    /** Registers one service's meters, tagged {@code service}. Called once per service. */
    abstract void bindService(MeterRegistry registry, ServiceStatistics service);
}
