package dev.serverframework.core.internal;

import dev.serverframework.core.PubSubMessage;
import io.netty.util.concurrent.EventExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * One message's deliveries to connection subscribers, as {@code each} delivers a broadcast: grouped by
 * executor, one task per executor (at most {@value ExecutorBatch#MAX_CONNECTIONS} connections each), and on an
 * I/O loop the writes are flushed by a task queued after the batch, so a loop that has fallen behind sends
 * several messages to a subscriber in one write instead of one write (one system call) each.
 */
final class ConnectionDeliveries {
    private final EventExecutor executor;
    private final List<ChannelSubscribers.OfConnection> subscribers = new ArrayList<>();

    private ConnectionDeliveries(EventExecutor executor) {
        this.executor = executor;
    }

    /**
     * Hands {@code message} to each subscriber (each has reserved its place in its queue) on its executor.
     * Any thread.
     */
    static void deliver(List<ChannelSubscribers.OfConnection> targets, PubSubMessage message) {
        for (ConnectionDeliveries batch : group(targets)) {
            try {
                batch.executor.execute(() -> batch.run(message));
            } catch (RejectedExecutionException e) {
                for (ChannelSubscribers.OfConnection s : batch.subscribers) {
                    s.rejected();
                }
            }
        }
    }

    /** Groups by executor, in the order each is first met; a server has a few, so a list beats a map. */
    private static List<ConnectionDeliveries> group(List<ChannelSubscribers.OfConnection> targets) {
        List<ConnectionDeliveries> batches = new ArrayList<>(2);
        List<ConnectionDeliveries> filling = new ArrayList<>(2);
        for (ChannelSubscribers.OfConnection s : targets) {
            EventExecutor ex = s.connection().executor();
            int at = -1;
            for (int i = 0; i < filling.size(); i++) {
                if (filling.get(i).executor == ex) {
                    at = i;
                    break;
                }
            }
            ConnectionDeliveries batch = at < 0 ? null : filling.get(at);
            if (batch == null || batch.subscribers.size() == ExecutorBatch.MAX_CONNECTIONS) {
                batch = new ConnectionDeliveries(ex);
                batches.add(batch);
                if (at < 0) {
                    filling.add(batch);
                } else {
                    filling.set(at, batch);
                }
            }
            batch.subscribers.add(s);
        }
        return batches;
    }

    /** On the batch's executor. */
    private void run(PubSubMessage message) {
        boolean heldFlushes = false;
        try {
            for (ChannelSubscribers.OfConnection s : subscribers) {
                ChannelConnection c = s.connection();
                if (c.executor() != executor) {
                    s.deliverAlone(message); // switched meanwhile to a protocol that runs elsewhere
                } else if (c.ioLoop() == executor) {
                    c.holdFlushes();
                    heldFlushes = true;
                    s.runHere(message);
                } else {
                    s.runHere(message);
                }
            }
        } finally {
            if (heldFlushes) {
                // Queued behind the deliveries already waiting on this loop, as each() does.
                try {
                    executor.execute(this::releaseFlushes);
                } catch (RejectedExecutionException e) {
                    releaseFlushes();
                }
            }
        }
    }

    private void releaseFlushes() {
        for (ChannelSubscribers.OfConnection s : subscribers) {
            if (s.connection().ioLoop() == executor) {
                s.connection().releaseFlushes();
            }
        }
    }
}
