package dev.serverframework.core.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubListener;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A {@link RedisEngine}'s two connections to Redis (one for SUBSCRIBE, one for PUBLISH, whatever the number
 * of clients), and keeping them up: the first connections are retried with backoff until Redis answers;
 * after that Lettuce reconnects them itself (capped backoff). A supervisor task on one of Lettuce's threads
 * looks every {@value #TICK_MS} ms and at every connect/disconnect event: it makes missing connections,
 * updates the {@link LinkState}, and on every (re)connection calls back so the subscriptions are replayed.
 * Why a supervisor rather than only Lettuce's events: one thread decides, so a flapping link cannot leave
 * two callbacks racing over the state.
 */
final class RedisLinks {
    private static final Logger log = LoggerFactory.getLogger(RedisLinks.class);
    /** Keys (channels) as UTF-8 strings, values (messages) as raw bytes. */
    static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    static final long TICK_MS = 100;

    static {
        // Lettuce would warn at every connection that both epoll and io_uring are available, then take epoll;
        // saying "no io_uring" up front gives the same transport without the noise. Read once, when Lettuce's
        // IOUringProvider loads; a value the application set is kept.
        if (System.getProperty("io.lettuce.core.iouring") == null) {
            System.setProperty("io.lettuce.core.iouring", "false");
        }
    }

    private final RedisSettings settings;
    private final RedisPubSubListener<String, byte[]> listener;
    private final Consumer<StatefulRedisPubSubConnection<String, byte[]>> onConnected;
    private final LinkState state;
    /** Counts Lettuce's connect and disconnect events: a change seen while up means it reconnected. */
    private final AtomicLong linkEvents = new AtomicLong();
    /** Counts disconnect events alone: one seen while up means the link really bounced (for the log). */
    private final AtomicLong disconnects = new AtomicLong();
    private volatile Throwable lastCause;
    private volatile boolean closed;
    private volatile StatefulRedisConnection<String, byte[]> publisher;
    private volatile StatefulRedisPubSubConnection<String, byte[]> subscriber;

    private ClientResources resources;
    private RedisClient client;
    private EventExecutor supervisor;
    private ScheduledFuture<?> ticking;

    // Supervisor thread only.
    private boolean connectingPublisher;
    private boolean connectingSubscriber;
    private long nextAttempt = System.nanoTime();
    private Duration backoff;
    private long seenEvents = -1;
    private long seenDisconnects;

    RedisLinks(RedisSettings settings, RedisPubSubListener<String, byte[]> listener,
               Consumer<StatefulRedisPubSubConnection<String, byte[]>> onConnected) {
        this.settings = settings;
        this.listener = listener;
        this.onConnected = onConnected;
        this.state = new LinkState(settings.address());
        this.backoff = settings.reconnectMin();
    }

    LinkState state() {
        return state;
    }

    /** The PUBLISH connection, or null before it first connected. It may be down (then it rejects commands). */
    StatefulRedisConnection<String, byte[]> publisher() {
        return publisher;
    }

    /** The SUBSCRIBE connection, or null before it first connected. */
    StatefulRedisPubSubConnection<String, byte[]> subscriber() {
        return subscriber;
    }

    /** Makes Lettuce's resources and starts connecting in the background; returns at once. */
    synchronized void start() {
        resources = DefaultClientResources.builder()
                .ioThreadPoolSize(settings.ioThreads())
                .computationThreadPoolSize(2) // Lettuce's minimum
                .reconnectDelay(Delay.exponential(settings.reconnectMin(), settings.reconnectMax(), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        client = RedisClient.create(resources, settings.uri());
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // Nothing is buffered while down: a publish fails at once (counted as dropped), and the
                // subscriptions are replayed from our own set.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                // Nor is anything sent again after a reconnection: a PUBLISH in flight when the link broke may
                // have reached Redis already, and at most once means never twice. It fails (counted as
                // dropped); the SUBSCRIBEs are replayed from our own set.
                .replayFilter(command -> true)
                .requestQueueSize(settings.maxPendingPublishes() + 1024)
                .socketOptions(SocketOptions.builder().connectTimeout(settings.commandTimeout()).build())
                .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()))
                .build());
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
                linkEvents.incrementAndGet();
                nudge();
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                disconnects.incrementAndGet();
                linkEvents.incrementAndGet();
                nudge();
            }

            @Override
            public void onRedisExceptionCaught(RedisChannelHandler<?, ?> connection, Throwable cause) {
                lastCause = cause;
            }
        });
        supervisor = resources.eventExecutorGroup().next();
        ticking = supervisor.scheduleWithFixedDelay(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
    }

    /** Looks now rather than at the next tick. */
    private void nudge() {
        onSupervisor(this::tick);
    }

    private void onSupervisor(Runnable task) {
        EventExecutor s = supervisor;
        if (closed || s == null) {
            return;
        }
        try {
            s.execute(task);
        } catch (RejectedExecutionException e) {
            // Closing: nothing left to supervise.
        }
    }

    private void tick() {
        if (closed) {
            return;
        }
        if ((publisher == null || subscriber == null) && System.nanoTime() - nextAttempt >= 0) {
            connectMissing();
        }
        StatefulRedisConnection<String, byte[]> p = publisher;
        StatefulRedisPubSubConnection<String, byte[]> s = subscriber;
        if (p != null && p.isOpen() && s != null && s.isOpen()) {
            long events = linkEvents.get();
            if (events != seenEvents) {
                long lost = disconnects.get();
                boolean bounced = seenEvents != -1 && lost != seenDisconnects;
                seenEvents = events;
                seenDisconnects = lost;
                lastCause = null;
                backoff = settings.reconnectMin();
                state.connected(bounced);
                onConnected.accept(s);
            }
        } else {
            state.down(lastCause);
        }
    }

    /** The first connection of each kind: Lettuce reconnects them once made, but does not retry a first one. */
    private void connectMissing() {
        if (publisher == null && !connectingPublisher) {
            connectingPublisher = true;
            client.connectAsync(CODEC, settings.uri()).whenComplete((c, e) -> onSupervisor(() -> {
                connectingPublisher = false;
                if (e != null) {
                    failed(e);
                } else if (closed) {
                    c.closeAsync();
                } else {
                    publisher = c;
                    tick();
                }
            }));
        }
        if (subscriber == null && !connectingSubscriber) {
            connectingSubscriber = true;
            client.connectPubSubAsync(CODEC, settings.uri()).whenComplete((c, e) -> onSupervisor(() -> {
                connectingSubscriber = false;
                if (e != null) {
                    failed(e);
                } else if (closed) {
                    c.closeAsync();
                } else {
                    c.addListener(listener);
                    subscriber = c;
                    tick();
                }
            }));
        }
    }

    private void failed(Throwable cause) {
        lastCause = cause;
        nextAttempt = System.nanoTime() + backoff.toNanos();
        Duration doubled = backoff.multipliedBy(2);
        backoff = doubled.compareTo(settings.reconnectMax()) > 0 ? settings.reconnectMax() : doubled;
        log.debug("Redis pub/sub: connecting to {} failed ({}); next attempt in {} ms",
                settings.address(), LinkState.describe(cause), backoff.toMillis());
        state.down(cause);
    }

    /** Closes both connections and Lettuce's threads, waiting a few seconds at most. */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ticking != null) {
            ticking.cancel(false);
        }
        try {
            if (client != null) {
                client.shutdown(0, 2, TimeUnit.SECONDS);
            }
        } catch (RuntimeException e) {
            log.debug("Redis pub/sub: shutting the client down: {}", e.toString());
        }
        try {
            if (resources != null && !resources.shutdown(0, 2, TimeUnit.SECONDS).await(3, TimeUnit.SECONDS)) {
                log.warn("Redis pub/sub to {}: Lettuce's threads did not stop within 3 s", settings.address());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        state.closed();
    }
}
