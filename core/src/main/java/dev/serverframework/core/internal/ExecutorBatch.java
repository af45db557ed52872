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

    /** Groups connections by their executor, in the order each executor is first met. */
    static List<ExecutorBatch> of(List<ChannelConnection> targets) {
        // A server has a few executors (its workers and I/O loops): a linear search beats a map.
        List<ExecutorBatch> batches = new ArrayList<>(4);
        for (ChannelConnection c : targets) {
            EventExecutor ex = c.executor();
            ExecutorBatch batch = null;
            for (ExecutorBatch b : batches) {
                if (b.executor == ex) {
                    batch = b;
                    break;
                }
            }
            if (batch == null) {
                batch = new ExecutorBatch(ex, new ArrayList<>());
                batches.add(batch);
            }
            batch.connections.add(c);
        }
        return batches;
    }
}
