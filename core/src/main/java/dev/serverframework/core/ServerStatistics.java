package dev.serverframework.core;

import java.util.Collection;

/**
 * Counters of a {@link Server}, kept whether or not anyone reads them; the metrics module exposes them.
 * Every method is thread-safe; readers see exact but not mutually atomic values. The framework counts;
 * users only read.
 */
public interface ServerStatistics {

    /** Told the fan-out of every {@link Server#each} call, on the calling thread. */
    @FunctionalInterface
    interface BroadcastListener {
        /** One broadcast reached {@code targets} connections. */
        void broadcast(int targets);
    }

    /** Connections accepted and admitted. */
    long accepted();

    /** Admitted connections that have closed. */
    long closed();

    /** Connections refused because the server was at its connection limit. */
    long rejected();

    /** Times a connection reached its idle timeout ({@link Protocol#ping} was called). */
    long idleTimeouts();

    /** Connections cut because their peer took none of their pending output for the write-stall timeout. */
    long writeStalls();

    /** Connections that ended with an I/O error: reset by the peer, broken pipe. */
    long resets();

    /** Connections whose peer closed them in the middle of a message (a request head or body cut short). */
    long closedMidMessage();

    /** Protocol callbacks and connection tasks that threw. */
    long callbackFailures();

    /** Protocol errors over all services. */
    long protocolErrors();

    /** {@link Server#each} calls. */
    long broadcasts();

    /** Connections targeted by all {@link Server#each} calls together. */
    long broadcastTargets();

    /** Statistics of one service, created on first use. */
    ServiceStatistics service(String name);

    /** Every service seen so far. */
    Collection<? extends ServiceStatistics> services();

    /** Sets the listener told the fan-out of each broadcast; {@code null} removes it. */
    void broadcastListener(BroadcastListener listener);
}
