package dev.serverframework.core;

import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of a {@link Server}, kept whether or not anyone reads them; the metrics module exposes them.
 * Every method is thread-safe; readers see exact but not mutually atomic values.
 */
public final class ServerStatistics {
    private final LongAdder accepted = new LongAdder();
    private final LongAdder closed = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder idleTimeouts = new LongAdder();
    private final LongAdder writeStalls = new LongAdder();
    private final LongAdder resets = new LongAdder();
    private final LongAdder closedMidMessage = new LongAdder();
    private final LongAdder callbackFailures = new LongAdder();
    private final LongAdder broadcasts = new LongAdder();
    private final LongAdder broadcastTargets = new LongAdder();
    private final ConcurrentMap<String, ServiceStatistics> services = new ConcurrentHashMap<>();
    private volatile BroadcastListener broadcastListener;

    /** Told the fan-out of every {@link Server#each} call, on the calling thread. */
    @FunctionalInterface
    public interface BroadcastListener {
        /** One broadcast reached {@code targets} connections. */
        void broadcast(int targets);
    }

    ServerStatistics() {
    }

    /** Connections accepted and admitted. */
    public long accepted() {
        return accepted.sum();
    }

    /** Admitted connections that have closed. */
    public long closed() {
        return closed.sum();
    }

    /** Connections refused because the server was at its connection limit. */
    public long rejected() {
        return rejected.sum();
    }

    /** Times a connection reached its idle timeout ({@link Protocol#ping} was called). */
    public long idleTimeouts() {
        return idleTimeouts.sum();
    }

    /** Connections cut because their peer took none of their pending output for the write-stall timeout. */
    public long writeStalls() {
        return writeStalls.sum();
    }

    /** Connections that ended with an I/O error: reset by the peer, broken pipe. */
    public long resets() {
        return resets.sum();
    }

    /** Connections whose peer closed them in the middle of a message (a request head or body cut short). */
    public long closedMidMessage() {
        return closedMidMessage.sum();
    }

    /** Protocol callbacks and connection tasks that threw. */
    public long callbackFailures() {
        return callbackFailures.sum();
    }

    /** Protocol errors over all services. */
    public long protocolErrors() {
        long sum = 0;
        for (ServiceStatistics s : services.values()) {
            sum += s.protocolErrors();
        }
        return sum;
    }

    /** {@link Server#each} calls. */
    public long broadcasts() {
        return broadcasts.sum();
    }

    /** Connections targeted by all {@link Server#each} calls together. */
    public long broadcastTargets() {
        return broadcastTargets.sum();
    }

    /** Statistics of one service, created on first use. */
    public ServiceStatistics service(String name) {
        return services.computeIfAbsent(name, ServiceStatistics::new);
    }

    /** Every service seen so far. */
    public Collection<ServiceStatistics> services() {
        return Collections.unmodifiableCollection(services.values());
    }

    /** Sets the listener told the fan-out of each broadcast; {@code null} removes it. */
    public void broadcastListener(BroadcastListener listener) {
        this.broadcastListener = listener;
    }

    void onAccepted() {
        accepted.increment();
    }

    void onClosed() {
        closed.increment();
    }

    void onRejected() {
        rejected.increment();
    }

    void onIdleTimeout() {
        idleTimeouts.increment();
    }

    void onWriteStall() {
        writeStalls.increment();
    }

    void onReset() {
        resets.increment();
    }

    void onClosedMidMessage() {
        closedMidMessage.increment();
    }

    void onCallbackFailure() {
        callbackFailures.increment();
    }

    void onBroadcast(int targets) {
        broadcasts.increment();
        broadcastTargets.add(targets);
        BroadcastListener l = broadcastListener;
        if (l != null) {
            l.broadcast(targets);
        }
    }
}
