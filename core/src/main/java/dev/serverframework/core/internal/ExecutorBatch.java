package dev.serverframework.core.internal;

import io.netty.util.concurrent.EventExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;

/**
 * Work for many connections handed to their executors in batches, as a broadcast ({@code each}) and a
 * published message's deliveries are: the targets are grouped by executor, each executor gets one task per
 * {@value #MAX_CONNECTIONS} of them (a few queue hand-offs for 10,000 connections, not 10,000), and on an
 * I/O loop the writes are flushed by a task queued after the batch, so a loop that has fallen behind sends
 * several batches' messages to a connection in one write instead of one write (one system call) each.
 *
 * @param executor where the items' connections ran when grouped
 * @param items    the items, in the order they were given
 * @param <T>      what a target is: a connection, or a subscription of one
 */
record ExecutorBatch<T>(EventExecutor executor, List<T> items) {

    /**
     * The most connections one task serves: an I/O loop checks its time budget between tasks, so a broadcast
     * to 10,000 connections on one loop must not be one task that keeps the loop from its sockets meanwhile.
     */
    static final int MAX_CONNECTIONS = 512;

    /** What a batch does with each of its items. */
    interface Body<T> {
        /** On the connection's executor, inside the batch. Whatever it throws is the body's to handle. */
        void here(T item);

        /** The connection switched meanwhile to a protocol that runs elsewhere: the item goes there. */
        void moved(T item);

        /** The executor refused the batch (it has terminated). */
        void rejected(T item);
    }

    /**
     * Hands the batches ({@link #group}) to their executors and runs {@code body} for each item there, holding
     * the flushes of connections on their own I/O loop until a task queued after the batch. {@code onBatchDone}
     * (if not null) runs once per batch, after its items, or at once for a refused batch. Any thread.
     */
    static <T> void dispatch(List<ExecutorBatch<T>> batches, Function<? super T, ChannelConnection> connectionOf,
                             Body<? super T> body, Runnable onBatchDone) {
        for (ExecutorBatch<T> batch : batches) {
            try {
                batch.executor.execute(() -> batch.run(connectionOf, body, onBatchDone));
            } catch (RejectedExecutionException e) {
                for (T item : batch.items) {
                    body.rejected(item);
                }
                if (onBatchDone != null) {
                    onBatchDone.run();
                }
            }
        }
    }

    /**
     * Groups by executor, in the order each executor is first met, at most {@value #MAX_CONNECTIONS} to a batch;
     * an executor's batches keep the items' order. A server has a few executors: a linear search beats a map.
     */
    static <T> List<ExecutorBatch<T>> group(List<T> targets, Function<? super T, ChannelConnection> connectionOf) {
        List<ExecutorBatch<T>> batches = new ArrayList<>(4);
        List<ExecutorBatch<T>> filling = new ArrayList<>(4);
        for (T item : targets) {
            EventExecutor ex = connectionOf.apply(item).executor();
            int at = -1;
            for (int i = 0; i < filling.size(); i++) {
                if (filling.get(i).executor == ex) {
                    at = i;
                    break;
                }
            }
            ExecutorBatch<T> batch = at < 0 ? null : filling.get(at);
            if (batch == null || batch.items.size() == MAX_CONNECTIONS) {
                batch = new ExecutorBatch<>(ex, new ArrayList<>(Math.min(MAX_CONNECTIONS, targets.size())));
                batches.add(batch);
                if (at < 0) {
                    filling.add(batch);
                } else {
                    filling.set(at, batch);
                }
            }
            batch.items.add(item);
        }
        return batches;
    }

    /** On the batch's executor. */
    private void run(Function<? super T, ChannelConnection> connectionOf, Body<? super T> body, Runnable onBatchDone) {
        boolean heldFlushes = false;
        try {
            for (T item : items) {
                ChannelConnection c = connectionOf.apply(item);
                if (c.executor() != executor) {
                    body.moved(item);
                } else {
                    if (c.ioLoop() == executor) {
                        c.holdFlushes();
                        heldFlushes = true;
                    }
                    body.here(item);
                }
            }
        } finally {
            if (heldFlushes) {
                // Queued behind the batches already waiting on this loop: when it falls behind, their messages
                // to a connection leave in one write instead of one write each.
                try {
                    executor.execute(() -> releaseFlushes(connectionOf));
                } catch (RejectedExecutionException e) {
                    releaseFlushes(connectionOf);
                }
            }
            if (onBatchDone != null) {
                onBatchDone.run();
            }
        }
    }

    private void releaseFlushes(Function<? super T, ChannelConnection> connectionOf) {
        for (T item : items) {
            ChannelConnection c = connectionOf.apply(item);
            if (c.ioLoop() == executor) {
                c.releaseFlushes();
            }
        }
    }
}
