package dev.serverframework.core.internal;

import dev.serverframework.core.ServiceStatistics;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind one service's {@link ServiceStatistics}. Resolved once per connection, so the hot
 * path only adds to them. Thread-safe.
 */
public final class ServiceCounters implements ServiceStatistics {
    private final String name;
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();

    ServiceCounters(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int open() {
        return open.get();
    }

    @Override
    public long bytesRead() {
        return bytesRead.sum();
    }

    @Override
    public long bytesWritten() {
        return bytesWritten.sum();
    }

    @Override
    public long protocolErrors() {
        return protocolErrors.sum();
    }

    // ---- counting, by the framework ----

    /** A connection of this service opened (or switched to it). */
    public void opened() {
        open.incrementAndGet();
    }

    /** A connection of this service closed (or switched away). */
    public void closed() {
        open.decrementAndGet();
    }

    /** Bytes read from a connection of this service. */
    public void read(long bytes) {
        bytesRead.add(bytes);
    }

    /** Bytes handed to the transport for a connection of this service. */
    public void written(long bytes) {
        bytesWritten.add(bytes);
    }

    /** Bad input from a connection of this service. */
    public void protocolError() {
        protocolErrors.increment();
    }
}
