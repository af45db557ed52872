package dev.serverframework.core;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one service (one protocol name) of a {@link Server}. Resolved once per connection, so the
 * hot path only adds to them. Thread-safe.
 */
public final class ServiceStatistics {
    private final String name;
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();

    ServiceStatistics(String name) {
        this.name = name;
    }

    /** The service name. */
    public String name() {
        return name;
    }

    /** Connections of this service open now. */
    public int open() {
        return open.get();
    }

    /** Bytes read from this service's connections (as received, before decoding; after TLS). */
    public long bytesRead() {
        return bytesRead.sum();
    }

    /** Bytes handed to the transport for this service's connections. */
    public long bytesWritten() {
        return bytesWritten.sum();
    }

    /** Bad input reported by the protocol or its codecs. */
    public long protocolErrors() {
        return protocolErrors.sum();
    }

    void opened() {
        open.incrementAndGet();
    }

    void closed() {
        open.decrementAndGet();
    }

    void read(long bytes) {
        bytesRead.add(bytes);
    }

    void written(long bytes) {
        bytesWritten.add(bytes);
    }

    void protocolError() {
        protocolErrors.increment();
    }
}
