package dev.serverframework.core;

import dev.serverframework.core.internal.ChannelConnection;
import dev.serverframework.core.internal.ChannelSubscribers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Publish/subscribe on named channels: within one process, and across processes through a
 * {@link PubSubEngine} (the Redis engine). A {@link Server} has one ({@link ServerBuilder#pubSub}, by
 * default an in-process one of its own); servers built with the same {@code PubSub} share its channels.
 *
 * <p><b>Delivery.</b> {@link #publish} hands the message at once to every subscriber of the channel in this
 * process, each on its own executor (a connection's, or the one given), then to the engine for the other
 * processes. Local delivery never depends on the engine: with Redis down, this process's subscribers still
 * get this process's messages. Messages of one publishing thread reach each subscriber in the order they
 * were published; messages of different publishers may interleave. Across processes the guarantee is the
 * engine's: for Redis, <em>at most once</em> (a message published while Redis is unreachable, or lost with a
 * connection, is dropped and counted in {@link #dropped()}, never retried). Memory stays bounded both ways: the
 * engine bounds what waits to go out, and a subscriber with {@link #MAX_QUEUED_DELIVERIES} deliveries waiting
 * on its executor does not get more ({@link #overflowed()}): a task subscription misses the message, a
 * connection's subscription ends and its connection is closed (as Redis closes a subscriber past its output
 * buffer limit), so that a connection never misses messages silently.
 *
 * <p><b>Life.</b> {@link #start()} and {@link #close()} are counted: the engine starts at the first start
 * and closes at the last close. A server starts its {@code PubSub} when it starts and closes it when it has
 * stopped, so a user of servers never calls them; one who wants a {@code PubSub} (and its Redis links) to
 * outlive its servers, to start new servers on it later, calls {@link #start()} once itself and
 * {@link #close()} at the end.
 *
 * <p>Thread-safe: every method may be called from any thread.
 */
public final class PubSub implements AutoCloseable {
    /**
     * Deliveries that may wait on one subscription's executor. Past this a subscriber slower than what is
     * published to it gets no more ({@link #overflowed()}), so that it cannot fill the heap with tasks.
     */
    public static final int MAX_QUEUED_DELIVERIES = 10_000;

    private static final Logger log = LoggerFactory.getLogger(PubSub.class);

    private final PubSubEngine engine;
    /** Channel name → its subscribers in this process; a channel without subscribers has no entry. */
    private final ConcurrentHashMap<String, ChannelSubscribers> channels = new ConcurrentHashMap<>();
    /** Guards the first and last subscriber of a channel, so the engine hears of them in order. */
    private final Object interest = new Object();
    private final LongAdder published = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder overflowed = new LongAdder();
    private final ChannelSubscribers.Owner owner = new ChannelSubscribers.Owner() {
        @Override
        public void cancelled(ChannelSubscribers.Subscriber s) {
            remove(s);
        }

        @Override
        public void overflowed(ChannelSubscribers.Subscriber s) {
            overflowed.increment();
        }
    };
    /** Guarded by this. */
    private int users;
    /** Guarded by this. */
    private boolean closed;
    /** Whether the engine has started: before, what would go to other processes is counted as dropped. */
    private volatile boolean started;

    private PubSub(PubSubEngine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    /** Publish/subscribe within this process only. */
    public static PubSub inProcess() {
        return new PubSub(PubSubEngine.inProcess());
    }

    /** Publish/subscribe across the processes that {@code engine} links, e.g. a Redis engine. */
    public static PubSub over(PubSubEngine engine) {
        return new PubSub(engine);
    }

    /**
     * Publishes {@code message} on {@code channel}: every subscriber in this process gets it, on its
     * executor, and the engine sends it to the other processes. Never blocks. Any thread.
     *
     * @param message the bytes; they are shared with every subscriber, so the caller must not change them
     *                afterwards
     * @return how many subscribers in this process it was handed to
     */
    public int publish(String channel, byte[] message) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(message, "message");
        published.increment();
        int local = deliver(new PubSubMessage(channel, message, true));
        if (started) {
            engine.publish(channel, message);
        } else {
            dropped.increment(); // no link to other processes yet (no server has started it)
        }
        return local;
    }

    /**
     * Runs {@code task} on {@code executor} for every message of {@code channel}, in the order they reach
     * this process, one at a time when the executor runs its tasks in order (a {@link Worker} does). A
     * server offers this with one of its workers ({@link Server#subscribe(String, Consumer)}). Any thread.
     */
    public Subscription subscribe(String channel, Executor executor, Consumer<PubSubMessage> task) {
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(task, "task");
        return add(new ChannelSubscribers.OnExecutor(owner, channel, MAX_QUEUED_DELIVERIES, executor, task));
    }

    /**
     * Calls {@code handler} on the connection's executor (where its protocol's callbacks run) for every
     * message of {@code channel}, until the subscription is cancelled or the connection closes, whichever
     * comes first. A connection with {@link #MAX_QUEUED_DELIVERIES} deliveries waiting is closed. Any thread.
     */
    public Subscription subscribe(Connection connection, String channel, BiConsumer<Connection, PubSubMessage> handler) {
        Objects.requireNonNull(handler, "handler");
        if (!(Objects.requireNonNull(connection, "connection") instanceof ChannelConnection c)) {
            throw new IllegalArgumentException("not a connection of a server: " + connection);
        }
        ChannelSubscribers.OfConnection s = new ChannelSubscribers.OfConnection(owner, channel,
                MAX_QUEUED_DELIVERIES, c, handler);
        add(s);
        s.cancelWhenClosed();
        return s;
    }

    /** Whether this process has a subscriber to {@code channel}. Any thread. */
    public boolean hasSubscribers(String channel) {
        return channels.containsKey(channel);
    }

    /** Subscribers to {@code channel} in this process. Any thread. */
    public int subscribers(String channel) {
        ChannelSubscribers s = channels.get(channel);
        return s == null ? 0 : s.size();
    }

    /** Messages published through this {@code PubSub} (in this process). */
    public long published() {
        return published.sum();
    }

    /** Messages other processes published that the engine brought here. */
    public long received() {
        return received.sum();
    }

    /**
     * Messages of this process that the engine could not send to the other processes (its link down, or its
     * buffer full). Their local subscribers got them.
     */
    public long dropped() {
        return dropped.sum();
    }

    /**
     * Messages not handed to a subscriber because it already had {@link #MAX_QUEUED_DELIVERIES} waiting on its
     * executor: it takes them slower than its channel is published to (a connection's subscriber is then
     * closed).
     */
    public long overflowed() {
        return overflowed.sum();
    }

    /** Where the engine stands. */
    public PubSubEngine.State state() {
        return engine.state();
    }

    /** The engine behind this {@code PubSub}. */
    public PubSubEngine engine() {
        return engine;
    }

    /**
     * Counts one more user; the first starts the engine. A server calls it as it starts.
     *
     * @throws IllegalStateException once the last user has closed it: an engine does not restart
     */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("this PubSub (engine " + engine + ") was closed by its last user");
        }
        if (users == 0) {
            engine.start(new EngineReceiver()); // counted only once it started: a failed start starts nothing
            started = true;
        }
        users++;
    }

    /**
     * Counts one user less; the last closes the engine. A server calls it when it has stopped; call it only to
     * balance a {@link #start()} of your own (a try-with-resources around a {@code PubSub} you did not start
     * would take a running server's share).
     */
    public void close() {
        synchronized (this) {
            if (users == 0 || --users > 0) {
                return;
            }
            closed = true;
            started = false;
        }
        try {
            engine.close();
        } catch (RuntimeException e) {
            log.warn("Closing the pub/sub engine {} failed: {}", engine, e.toString());
        }
    }

    private Subscription add(ChannelSubscribers.Subscriber s) {
        synchronized (interest) {
            ChannelSubscribers subscribers = channels.get(s.channel());
            if (subscribers == null) {
                subscribers = new ChannelSubscribers();
                channels.put(s.channel(), subscribers);
                subscribers.add(s);
                engine.subscribe(s.channel());
            } else {
                subscribers.add(s);
            }
        }
        return s;
    }

    /** A subscription was cancelled: the last of its channel ends this process's interest in it. */
    private void remove(ChannelSubscribers.Subscriber s) {
        synchronized (interest) {
            ChannelSubscribers subscribers = channels.get(s.channel());
            if (subscribers != null && subscribers.remove(s) && subscribers.isEmpty()) {
                channels.remove(s.channel());
                engine.unsubscribe(s.channel());
            }
        }
    }

    private int deliver(PubSubMessage message) {
        ChannelSubscribers subscribers = channels.get(message.channel());
        return subscribers == null ? 0 : subscribers.deliver(message);
    }

    @Override
    public String toString() {
        return "PubSub[" + engine + ", " + engine.state() + "]";
    }

    /** The engine's way in: other processes' messages, and drops. */
    private final class EngineReceiver implements PubSubEngine.Receiver {
        @Override
        public void received(String channel, byte[] message) {
            received.increment();
            deliver(new PubSubMessage(channel, message, false));
        }

        @Override
        public void dropped(long count) {
            dropped.add(count);
        }
    }
}
