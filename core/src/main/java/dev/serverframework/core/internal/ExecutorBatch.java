package dev.serverframework.core.internal;

import io.netty.util.concurrent.EventExecutor;

import java.util.ArrayList;
import java.util.List;

/**
 * The connections of a broadcast that share an executor, so that the executor gets them as one task.
 *
 * @param executor    where the connections' tasks run
 * @param connections the connections, in the order the broadcast found them
 */
record ExecutorBatch(EventExecutor executor, List<ChannelConnection> connections) {

    /**
     * The most connections one task serves: an I/O loop checks its time budget between tasks, so a broadcast
     * to 10,000 connections on one loop must not be one task that keeps the loop from its sockets meanwhile.
     */
    static final int MAX_CONNECTIONS = 512;

    /**
     * Groups connections by their executor, in the order each executor is first met, at most
     * {@value #MAX_CONNECTIONS} to a batch; an executor's batches keep the connections' order.
     */
    static List<ExecutorBatch> of(List<ChannelConnection> targets) {
        List<ExecutorBatch> batches = new ArrayList<>(4);
        // Each executor's batch being filled. A server has a few executors (its workers and I/O loops): a
        // linear search beats a map.
        List<ExecutorBatch> filling = new ArrayList<>(4);
        for (ChannelConnection c : targets) {
            EventExecutor ex = c.executor();
            int at = -1;
            for (int i = 0; i < filling.size(); i++) {
                if (filling.get(i).executor == ex) {
                    at = i;
                    break;
                }
            }
            ExecutorBatch batch = at < 0 ? null : filling.get(at);
            if (batch == null || batch.connections.size() == MAX_CONNECTIONS) {
                batch = new ExecutorBatch(ex, new ArrayList<>(Math.min(MAX_CONNECTIONS, targets.size())));
                batches.add(batch);
                if (at < 0) {
                    filling.add(batch);
                } else {
                    filling.set(at, batch);
                }
            }
            batch.connections.add(c);
        }
        return batches;
    }
}
