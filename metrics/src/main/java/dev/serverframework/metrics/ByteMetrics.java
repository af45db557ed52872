package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServiceStatistics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.BaseUnits;

/**
 * Bytes read and written by a {@link Server}'s connections, by service, read from its
 * {@link ServiceStatistics}: {@code server.io.read} and {@code server.io.written} (counters in bytes, tag
 * {@code service}; {@code server_io_read_bytes_total} in Prometheus). New services get meters at the
 * next {@link #refresh()}. Thread-safe.
 */
public final class ByteMetrics extends PerServiceBinder {

    /** @param tags tags added to every meter */
    public ByteMetrics(Server server, Iterable<Tag> tags) {
        super(server, tags);
    }

    @Override
    void bindService(MeterRegistry r, ServiceStatistics s) {
        FunctionCounter.builder("server.io.read", s, ServiceStatistics::bytesRead)
                .description("Bytes read from the connections (before decoding; after TLS)")
                .baseUnit(BaseUnits.BYTES).tags(tags).tag("service", s.name()).register(r);
        FunctionCounter.builder("server.io.written", s, ServiceStatistics::bytesWritten)
                .description("Bytes handed to the transport for the connections")
                .baseUnit(BaseUnits.BYTES).tags(tags).tag("service", s.name()).register(r);
    }
}
