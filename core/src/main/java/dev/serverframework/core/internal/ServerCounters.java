package dev.serverframework.core.internal;

import dev.serverframework.core.ServerStatistics;

import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind a server's {@link ServerStatistics}: the framework adds to them on its hot paths
 * (a {@link LongAdder} each, so threads do not contend), readers sum. Thread-safe.
 */
public final class ServerCounters implements ServerStatistics {
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
    private final ConcurrentMap<String, ServiceCounters> services = new ConcurrentHashMap<>();
    private volatile BroadcastListener broadcastListener;

    @Override
    public long accepted() {
        return accepted.sum();
    }

    @Override
    public long closed() {
        return closed.sum();
    }

    @Override
    public long rejected() {
        return rejected.sum();
    }

    @Override
    public long idleTimeouts() {
        return idleTimeouts.sum();
    }

    @Override
    public long writeStalls() {
        return writeStalls.sum();
    }

    @Override
    public long resets() {
        return resets.sum();
    }

    @Override
    public long closedMidMessage() {
        return closedMidMessage.sum();
    }

    @Override
    public long callbackFailures() {
        return callbackFailures.sum();
    }

    @Override
    public long protocolErrors() {
        long sum = 0;
        for (ServiceCounters s : services.values()) {
            sum += s.protocolErrors();
        }
        return sum;
    }

    @Override
    public long broadcasts() {
        return broadcasts.sum();
    }

    @Override
    public long broadcastTargets() {
        return broadcastTargets.sum();
    }

    @Override
    public ServiceCounters service(String name) {
        return services.computeIfAbsent(name, ServiceCounters::new);
    }

    @Override
    public Collection<ServiceCounters> services() {
        return Collections.unmodifiableCollection(services.values());
    }

    @Override
    public void broadcastListener(BroadcastListener listener) {
        this.broadcastListener = listener;
    }

    // ---- counting, by the framework on its own threads ----

    /** A connection was accepted and admitted. */
    public void onAccepted() {
        accepted.increment();
    }

    /** An admitted connection closed (or was hijacked). */
    public void onClosed() {
        closed.increment();
    }

    /** A connection was refused over the connection limit. */
    public void onRejected() {
        rejected.increment();
    }

    /** A connection reached its idle timeout. */
    public void onIdleTimeout() {
        idleTimeouts.increment();
    }

    /** A connection was cut for a write stall. */
    public void onWriteStall() {
        writeStalls.increment();
    }

    /** A connection ended with an I/O error. */
    public void onReset() {
        resets.increment();
    }

    /** A peer closed in the middle of a message. */
    public void onClosedMidMessage() {
        closedMidMessage.increment();
    }

    /** A callback or task threw. */
    public void onCallbackFailure() {
        callbackFailures.increment();
    }

    /** An {@code each} reached {@code targets} connections; tells the listener, on the calling thread. */
    public void onBroadcast(int targets) {
        broadcasts.increment();
        broadcastTargets.add(targets);
        BroadcastListener l = broadcastListener;
        if (l != null) {
            l.broadcast(targets);
        }
    }
}
