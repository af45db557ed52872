package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.PubSubMessage;
import dev.serverframework.core.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The subscribers of one channel in this process, and how a message reaches each: a task on its executor.
 * Thread-safe: subscribers come and go while messages are delivered; a delivery skips one cancelled
 * meanwhile.
 */
public final class ChannelSubscribers {
    private static final Logger log = LoggerFactory.getLogger(ChannelSubscribers.class);

    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();

    /** Adds a subscriber. */
    public void add(Subscriber s) {
        subscribers.add(s);
    }

    /** Removes a subscriber; true if it was there. */
    public boolean remove(Subscriber s) {
        return subscribers.remove(s);
    }

    /** Whether no subscriber is left. */
    public boolean isEmpty() {
        return subscribers.isEmpty();
    }

    /** How many subscribers there are. */
    public int size() {
        return subscribers.size();
    }

    /**
     * Hands the message to every subscriber's executor; returns to how many. The connections' deliveries go
     * out in batches per executor, with held flushes on I/O loops ({@link ExecutorBatch}), as a broadcast's do.
     */
    public int deliver(PubSubMessage message) {
        int n = 0;
        List<OfConnection> connections = null;
        try {
            for (Subscriber s : subscribers) {
                if (s instanceof OfConnection c) {
                    if (c.reserve()) {
                        if (connections == null) {
                            connections = new ArrayList<>();
                        }
                        connections.add(c);
                        n++;
                    }
                } else if (((OnExecutor) s).deliver(message)) {
                    n++;
                }
            }
        } finally {
            // The reserved deliveries go out whatever happened to the others: a reserved place is released
            // only by its delivery.
            if (connections != null) {
                ExecutorBatch.dispatch(ExecutorBatch.group(connections, OfConnection::connection),
                        OfConnection::connection, new ConnectionDelivery(message), null);
            }
        }
        return n;
    }

    /** One message's delivery to the connection subscribers of a batch. */
    private record ConnectionDelivery(PubSubMessage message) implements ExecutorBatch.Body<OfConnection> {
        @Override
        public void here(OfConnection s) {
            s.runHere(message);
        }

        @Override
        public void moved(OfConnection s) {
            s.deliverAlone(message);
        }

        @Override
        public void rejected(OfConnection s) {
            s.rejected();
        }
    }

    /** What a subscriber tells the pub/sub it belongs to. */
    public interface Owner {
        /** The subscription was cancelled: take it out of its channel. Once per subscription. */
        void cancelled(Subscriber s);

        /** A message was not handed to the subscriber: it had its limit of deliveries waiting. */
        void overflowed(Subscriber s);
    }

    /**
     * One subscription, and how a message reaches it. At most {@code maxQueued} deliveries wait on its
     * executor: past that a message is not queued (and counted), so a subscriber slower than what is
     * published cannot fill the heap with tasks; a connection's subscription then closes its connection.
     */
    public abstract static class Subscriber implements Subscription {
        private final Owner owner;
        private final String channel;
        private final int maxQueued;
        private final AtomicBoolean active = new AtomicBoolean(true);
        private final AtomicInteger queued = new AtomicInteger();

        Subscriber(Owner owner, String channel, int maxQueued) {
            this.owner = owner;
            this.channel = Objects.requireNonNull(channel, "channel");
            this.maxQueued = maxQueued;
        }

        @Override
        public String channel() {
            return channel;
        }

        @Override
        public void cancel() {
            cancelNow();
        }

        /** Cancels; true if this call ended the subscription (false: it had ended already). */
        final boolean cancelNow() {
            if (active.compareAndSet(true, false)) {
                owner.cancelled(this);
                cancelled();
                return true;
            }
            return false;
        }

        /** What a subscription of this kind releases when it ends. */
        void cancelled() {
        }

        /** A message was not queued: {@code maxQueued} were waiting. By default it is only counted. */
        void overflowed(int maxQueued) {
        }

        @Override
        public boolean isActive() {
            return active.get();
        }

        /**
         * Takes a place among the deliveries waiting for this subscriber: false when it has ended, or already
         * has its limit waiting (the message is then counted as overflowed).
         */
        boolean reserve() {
            if (!active.get()) {
                return false;
            }
            int waiting = queued.incrementAndGet();
            if (waiting > maxQueued && overLimit(waiting, maxQueued)) {
                queued.decrementAndGet();
                owner.overflowed(this);
                overflowed(maxQueued);
                return false;
            }
            return true;
        }

        /** Whether {@code waiting} deliveries, more than {@code maxQueued}, are too many. By default yes. */
        boolean overLimit(int waiting, int maxQueued) {
            return true;
        }

        /** A reserved delivery starts (or will never run). */
        final void unreserve() {
            queued.decrementAndGet();
        }

        /** A reserved delivery could not be queued: its executor has terminated, which ends the subscription. */
        final void rejected() {
            unreserve();
            log.debug("Subscription to {}: its executor has terminated; cancelling it", channel);
            cancel();
        }
    }

    /** A task run on a given executor for each message. */
    public static final class OnExecutor extends Subscriber {
        private final Executor executor;
        private final Consumer<PubSubMessage> task;

        /** @param maxQueued deliveries that may wait on the executor */
        public OnExecutor(Owner owner, String channel, int maxQueued, Executor executor,
                          Consumer<PubSubMessage> task) {
            super(owner, channel, maxQueued);
            this.executor = executor;
            this.task = task;
        }

        /**
         * Queues the task on the executor, unless the subscription ended or has its limit of deliveries waiting
         * (then false); a terminated executor ends the subscription. What the task throws is logged, and the
         * next message is delivered all the same.
         */
        boolean deliver(PubSubMessage message) {
            if (!reserve()) {
                return false;
            }
            try {
                executor.execute(() -> {
                    unreserve();
                    if (isActive()) {
                        run(message);
                    }
                });
            } catch (RejectedExecutionException e) {
                rejected();
                return false;
            }
            return true;
        }

        private void run(PubSubMessage message) {
            try {
                task.accept(message);
            } catch (Throwable t) {
                log.warn("Subscriber of channel {} threw {}", channel(), t.toString(), t);
            }
        }
    }

    /**
     * A handler called on a connection's executor for each message, while the connection is open. Its
     * deliveries go out batched per executor ({@link ExecutorBatch}).
     */
    public static final class OfConnection extends Subscriber {
        private final ChannelConnection connection;
        private final BiConsumer<Connection, PubSubMessage> handler;
        /** Takes the close listener off the connection, so that a cancelled subscription leaves nothing on it. */
        private volatile Runnable forgetClose;

        /** @param maxQueued deliveries that may wait on the connection's executor */
        public OfConnection(Owner owner, String channel, int maxQueued, ChannelConnection connection,
                            BiConsumer<Connection, PubSubMessage> handler) {
            super(owner, channel, maxQueued);
            this.connection = connection;
            this.handler = handler;
        }

        ChannelConnection connection() {
            return connection;
        }

        /** Cancels this subscription when its connection closes (at once if it has). */
        public void cancelWhenClosed() {
            forgetClose = connection.whenClosed(this::cancel);
            if (!isActive()) {
                forgetClose.run(); // cancelled meanwhile: cancelled() may have missed the listener
            }
        }

        @Override
        void cancelled() {
            Runnable forget = forgetClose;
            if (forget != null) {
                forget.run();
            }
        }

        /**
         * The connection takes its messages slower than they are published: rather than let it miss some and
         * go on as if it had not, it is closed, as Redis closes a subscriber past its output buffer limit.
         */
        @Override
        void overflowed(int maxQueued) {
            if (cancelNow()) {
                log.info("Connection {}: subscriber of {} fell {} messages behind; closing it", connection.id(),
                        channel(), maxQueued);
                connection.abort();
            }
        }

        /**
         * Deliveries also wait on the connection's executor when that executor is busy with other work (a
         * burst of pipelined PUBLISHes on the same I/O loop), not only when the connection is slow: past the
         * limit the connection is closed only if it also has output waiting (not writable), or when ten times
         * the limit wait, which bounds memory whatever the cause.
         */
        @Override
        boolean overLimit(int waiting, int maxQueued) {
            return !connection.isWritable() || waiting > 10 * maxQueued;
        }

        @Override
        boolean reserve() {
            if (!connection.isOpen()) {
                cancel();
                return false;
            }
            return super.reserve();
        }

        /**
         * A delivery reserved for a batch, run in it, on the connection's executor: as {@code each} runs a task,
         * so a handler that throws closes its connection and is counted as a callback failure.
         */
        void runHere(PubSubMessage message) {
            unreserve();
            if (isActive()) {
                connection.runTaskHere(handler, message);
            }
        }

        /** A delivery reserved for a batch whose executor the connection no longer runs on: on its own. */
        void deliverAlone(PubSubMessage message) {
            try {
                connection.executor().execute(() -> runHere(message));
            } catch (RejectedExecutionException e) {
                rejected();
            }
        }
    }
}
