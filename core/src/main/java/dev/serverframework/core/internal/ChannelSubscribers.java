package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.PubSubMessage;
import dev.serverframework.core.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    /** Hands the message to every subscriber's executor; returns to how many. */
    public int deliver(PubSubMessage message) {
        int n = 0;
        for (Subscriber s : subscribers) {
            if (s.deliver(message)) {
                n++;
            }
        }
        return n;
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
     * published cannot fill the heap with tasks.
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
            if (active.compareAndSet(true, false)) {
                owner.cancelled(this);
                cancelled();
            }
        }

        /** What a subscription of this kind releases when it ends. */
        void cancelled() {
        }

        @Override
        public boolean isActive() {
            return active.get();
        }

        /** Queues the message on the subscriber's executor; false when it was not queued. */
        abstract boolean deliver(PubSubMessage message);

        /**
         * Runs {@code code} on {@code executor}, unless the subscription ended or has its limit of deliveries
         * waiting; a terminated executor ends the subscription. What the code throws is logged, and the next
         * message is delivered all the same.
         */
        final boolean deliverOn(Executor executor, Runnable code) {
            if (!active.get()) {
                return false;
            }
            if (queued.incrementAndGet() > maxQueued) {
                queued.decrementAndGet();
                owner.overflowed(this);
                return false;
            }
            try {
                executor.execute(() -> {
                    queued.decrementAndGet();
                    if (active.get()) {
                        run(code);
                    }
                });
                return true;
            } catch (RejectedExecutionException e) {
                queued.decrementAndGet();
                log.debug("Subscription to {}: its executor has terminated; cancelling it", channel);
                cancel();
                return false;
            }
        }

        private void run(Runnable code) {
            try {
                code.run();
            } catch (RuntimeException | Error e) {
                log.warn("Subscriber of channel {} threw {}", channel, e.toString(), e);
            }
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

        @Override
        boolean deliver(PubSubMessage message) {
            return deliverOn(executor, () -> task.accept(message));
        }
    }

    /** A handler called on a connection's executor for each message, while the connection is open. */
    public static final class OfConnection extends Subscriber {
        private final Connection connection;
        private final BiConsumer<Connection, PubSubMessage> handler;
        /** Takes the close listener off the connection, so that a cancelled subscription leaves nothing on it. */
        private volatile Runnable forgetClose;

        /** @param maxQueued deliveries that may wait on the connection's executor */
        public OfConnection(Owner owner, String channel, int maxQueued, Connection connection,
                            BiConsumer<Connection, PubSubMessage> handler) {
            super(owner, channel, maxQueued);
            this.connection = connection;
            this.handler = handler;
        }

        /** Cancels this subscription when its connection closes (at once if it has). */
        public void cancelWhenClosed() {
            if (connection instanceof ChannelConnection c) {
                forgetClose = c.whenClosed(this::cancel);
                if (!isActive()) {
                    forgetClose.run(); // cancelled meanwhile: cancelled() may have missed the listener
                }
            } else if (!connection.isOpen()) {
                cancel();
            }
        }

        @Override
        void cancelled() {
            Runnable forget = forgetClose;
            if (forget != null) {
                forget.run();
            }
        }

        @Override
        boolean deliver(PubSubMessage message) {
            if (!connection.isOpen()) {
                cancel();
                return false;
            }
            return deliverOn(connection.executor(), () -> {
                if (connection.isOpen()) {
                    handler.accept(connection, message);
                }
            });
        }
    }
}
