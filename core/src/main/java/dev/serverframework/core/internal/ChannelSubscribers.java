package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.PubSubMessage;
import dev.serverframework.core.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
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

    /** One subscription, and how a message reaches it. */
    public abstract static class Subscriber implements Subscription {
        private final Consumer<Subscriber> onCancel;
        private final String channel;
        private volatile boolean active = true;

        Subscriber(Consumer<Subscriber> onCancel, String channel) {
            this.onCancel = onCancel;
            this.channel = java.util.Objects.requireNonNull(channel, "channel");
        }

        @Override
        public String channel() {
            return channel;
        }

        @Override
        public void cancel() {
            if (active) {
                active = false;
                onCancel.accept(this);
            }
        }

        @Override
        public boolean isActive() {
            return active;
        }

        /** Queues the message on the subscriber's executor; false when the subscriber is gone. */
        abstract boolean deliver(PubSubMessage message);

        /** Runs {@code delivery} on {@code executor}; a terminated executor ends the subscription. */
        final boolean deliverOn(Executor executor, Runnable delivery) {
            if (!active) {
                return false;
            }
            try {
                executor.execute(delivery);
                return true;
            } catch (RejectedExecutionException e) {
                log.debug("Subscription to {}: its executor has terminated; cancelling it", channel);
                cancel();
                return false;
            }
        }

        /** Runs the subscriber's code; what it throws is logged, and the next message is delivered all the same. */
        final void run(Runnable code) {
            if (!active) {
                return;
            }
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

        /** @param onCancel what removes it from its channel */
        public OnExecutor(Consumer<Subscriber> onCancel, String channel, Executor executor,
                          Consumer<PubSubMessage> task) {
            super(onCancel, channel);
            this.executor = executor;
            this.task = task;
        }

        @Override
        boolean deliver(PubSubMessage message) {
            return deliverOn(executor, () -> run(() -> task.accept(message)));
        }
    }

    /** A handler called on a connection's executor for each message, while the connection is open. */
    public static final class OfConnection extends Subscriber {
        private final Connection connection;
        private final BiConsumer<Connection, PubSubMessage> handler;

        /** @param onCancel what removes it from its channel */
        public OfConnection(Consumer<Subscriber> onCancel, String channel, Connection connection,
                            BiConsumer<Connection, PubSubMessage> handler) {
            super(onCancel, channel);
            this.connection = connection;
            this.handler = handler;
        }

        /** Cancels this subscription when its connection closes (at once if it has). */
        public void cancelWhenClosed() {
            if (connection instanceof ChannelConnection c) {
                c.whenClosed(this::cancel);
            } else if (!connection.isOpen()) {
                cancel();
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
                    run(() -> handler.accept(connection, message));
                }
            });
        }
    }
}
