package dev.serverframework.core.redis;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.PubSubEngine;
import dev.serverframework.core.SettingChecks;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;

import java.net.URI;
import java.net.URISyntaxException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Publish/subscribe across processes through Redis pub/sub, on Lettuce:
 * {@code PubSub.over(RedisEngine.create("redis://127.0.0.1:6379"))}, then
 * {@code Server.builder().pubSub(thatPubSub)} in every process. Lettuce ({@code io.lettuce:lettuce-core}) is
 * an optional dependency of the core: add it to use this class.
 *
 * <p><b>At most once.</b> Redis pub/sub keeps nothing: a message published while Redis is unreachable, while
 * this engine's link is down, or beyond the bound of pending publishes is dropped (counted through
 * {@link PubSubEngine.Receiver#dropped}, so in {@link PubSub#dropped()}), never retried; a message published
 * by another process while this one is disconnected never arrives here. The {@link PubSub} still delivers
 * every message to the subscribers of its own process.
 *
 * <p><b>Connections.</b> Two per engine, whatever the number of clients: one for SUBSCRIBE, one for
 * PUBLISH, on Lettuce's own small thread pools. {@link #start} returns at once and connects in the
 * background, retrying with backoff until Redis answers ({@link State#CONNECTING}); a lost connection is
 * reconnected with a backoff from {@link Builder#reconnectBackoff} ({@link State#DISCONNECTED}), and every
 * channel with local subscribers is subscribed again, including those subscribed or unsubscribed while down.
 * {@link State#CONNECTED} means both connections are up. Each change is logged once.
 *
 * <p><b>Own messages.</b> Redis sends a message back to its publisher's subscription too, and the
 * {@code PubSub} already delivered it locally, so what this engine publishes carries a 12-byte envelope
 * (magic bytes and a random 64-bit engine id) and it drops what it receives with its own id. Messages from
 * other engines arrive without the envelope; a message published by any other client ({@code redis-cli
 * PUBLISH chat hello}) arrives whole. Subscribers of other kinds see the envelope: magic
 * {@code 0xF0 'S' 'F' '1'}, then the id (8 bytes, big-endian), then the message.
 *
 * <p><b>Threads.</b> {@link #publish}, {@link #subscribe} and {@link #unsubscribe} are called by the
 * {@code PubSub} on any thread (workers, I/O loops) and never wait for Redis: they hand a command to Lettuce's
 * connection, or drop. (Lettuce's write path takes a short lock of its own, held only while a reconnected link
 * is activated.)
 * {@link PubSubEngine.Receiver#received} is called on a Lettuce I/O thread, in the order Redis sent the
 * messages; {@link PubSubEngine.Receiver#dropped} on the caller's or a Lettuce thread. {@link #close} may
 * block for a few seconds while Lettuce's threads stop.
 */
public final class RedisEngine implements PubSubEngine {
    private static final SecureRandom IDS = new SecureRandom();

    private final RedisSettings settings;
    private final Envelope envelope = new Envelope(IDS.nextLong());
    private final ChannelInterest interest = new ChannelInterest();
    private final RedisLinks links;
    /** Publishes sent and not yet answered: bounded by maxPendingPublishes, so memory is too. */
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Receiver receiver;
    private boolean started;

    private RedisEngine(RedisSettings settings) {
        this.settings = settings;
        this.links = new RedisLinks(settings, new Messages(), interest::replay);
    }

    /**
     * An engine with default settings.
     *
     * @param redisUri e.g. {@code "redis://127.0.0.1:6379"} or {@code "rediss://:password@host:6380/0"}
     * @throws IllegalArgumentException naming the URI if it is not a Redis URI
     */
    public static RedisEngine create(String redisUri) {
        return builder(redisUri).build();
    }

    /**
     * A builder for an engine reaching Redis at {@code redisUri}, checked at once.
     *
     * @param redisUri e.g. {@code "redis://127.0.0.1:6379"}; {@code redis://} or {@code rediss://} (TLS)
     * @throws IllegalArgumentException naming the URI if it is not a Redis URI
     */
    public static Builder builder(String redisUri) {
        return new Builder(parse(redisUri));
    }

    private static RedisURI parse(String redisUri) {
        Objects.requireNonNull(redisUri, "redisUri");
        String why;
        try {
            URI u = new URI(redisUri);
            if (!"redis".equalsIgnoreCase(u.getScheme()) && !"rediss".equalsIgnoreCase(u.getScheme())) {
                why = "the scheme must be redis:// or rediss://";
            } else if (u.getHost() == null || u.getHost().isEmpty()) {
                why = "it names no host";
            } else if (u.getPort() == 0 || u.getPort() > 65535) {
                why = "port " + u.getPort() + " is out of range";
            } else {
                return RedisURI.create(redisUri);
            }
        } catch (URISyntaxException | RuntimeException e) {
            why = e.getMessage();
        }
        throw new IllegalArgumentException("Redis URI '" + redisUri + "' is not valid: " + why
                + " (expected e.g. redis://127.0.0.1:6379)");
    }

    /** Called once by the {@link PubSub}, on the thread starting the first server. Returns at once. */
    @Override
    public synchronized void start(Receiver receiver) {
        if (started) {
            throw new IllegalStateException("RedisEngine to " + settings.address() + " was already started");
        }
        started = true;
        this.receiver = Objects.requireNonNull(receiver, "receiver");
        links.start();
    }

    /** Any thread; never blocks. */
    @Override
    public void subscribe(String channel) {
        interest.subscribe(channel, links.subscriber());
    }

    /** Any thread; never blocks. */
    @Override
    public void unsubscribe(String channel) {
        interest.unsubscribe(channel, links.subscriber());
    }

    /**
     * Sends the message (in its envelope) on the PUBLISH connection, or drops it at once when that
     * connection is down or {@link Builder#maxPendingPublishes} are awaiting Redis's answer. A publish that
     * fails or times out later is counted as dropped too. Any thread; never blocks.
     */
    @Override
    public void publish(String channel, byte[] message) {
        StatefulRedisConnection<String, byte[]> c = links.publisher();
        if (c == null || !c.isOpen()) {
            dropped();
            return;
        }
        if (pending.incrementAndGet() > settings.maxPendingPublishes()) {
            pending.decrementAndGet();
            dropped();
            return;
        }
        RedisFuture<Long> sent;
        try {
            sent = c.async().publish(channel, envelope.wrap(message));
        } catch (RuntimeException e) {
            pending.decrementAndGet();
            dropped();
            return;
        }
        sent.whenComplete((subscribers, failure) -> {
            pending.decrementAndGet();
            if (failure != null) {
                dropped();
            }
        });
    }

    private void dropped() {
        Receiver r = receiver;
        if (r != null) {
            r.dropped(1);
        }
    }

    /** Any thread. {@link State#CONNECTING} before {@link #start} too. */
    @Override
    public State state() {
        return links.state().get();
    }

    /** Publishes sent and not yet answered by Redis. Any thread. */
    public int pendingPublishes() {
        return pending.get();
    }

    /** This engine's id, as its envelope carries it. */
    public long id() {
        return envelope.engineId();
    }

    /** Closes both connections and stops Lettuce's threads; blocks a few seconds at most. Any thread but Lettuce's. */
    @Override
    public void close() {
        links.close();
    }

    @Override
    public String toString() {
        return "redis://" + settings.address();
    }

    /** What the SUBSCRIBE connection hears, on a Lettuce I/O thread. */
    private final class Messages extends RedisPubSubAdapter<String, byte[]> {
        @Override
        public void message(String channel, byte[] payload) {
            if (!interest.wants(channel)) {
                return; // unsubscribed meanwhile, or resubscribed by Lettuce after we gave it up
            }
            byte[] message = envelope.unwrap(payload);
            Receiver r = receiver;
            if (message != null && r != null) {
                r.received(channel, message);
            }
        }

        @Override
        public void subscribed(String channel, long count) {
            interest.confirmed(channel, links.subscriber());
        }
    }

    /** Settings of a {@link RedisEngine}, each checked as it is set. Not thread-safe; use on one thread. */
    public static final class Builder {
        private final RedisURI uri;
        private int maxPendingPublishes = 10_000;
        private Duration reconnectMin = Duration.ofMillis(50);
        private Duration reconnectMax = Duration.ofSeconds(1);
        private Duration commandTimeout = Duration.ofSeconds(5);
        private int ioThreads = 2;

        private Builder(RedisURI uri) {
            this.uri = uri;
        }

        /**
         * Publishes sent to Redis and not yet answered, at most; beyond, a publish is dropped (and counted).
         * Bounds the memory a slow Redis can take. Default 10,000.
         */
        public Builder maxPendingPublishes(int max) {
            this.maxPendingPublishes = SettingChecks.range("maxPendingPublishes", max, 1, 10_000_000);
            return this;
        }

        /**
         * The wait before reconnecting: {@code first} after a loss, doubling up to {@code max}. Default 50 ms
         * to 1 s, so the link is back about a second after Redis is.
         */
        public Builder reconnectBackoff(Duration first, Duration max) {
            this.reconnectMin = SettingChecks.range("reconnectBackoff first", first, Duration.ofMillis(1),
                    Duration.ofMinutes(1));
            this.reconnectMax = SettingChecks.range("reconnectBackoff max", max, first, Duration.ofMinutes(5));
            return this;
        }

        /** How long a command (and a connection attempt) may take before it fails; a failed publish is dropped. Default 5 s. */
        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = SettingChecks.range("commandTimeout", timeout, Duration.ofMillis(10),
                    Duration.ofMinutes(10));
            return this;
        }

        /** Lettuce's I/O threads for this engine's two connections. Default 2. */
        public Builder ioThreads(int threads) {
            this.ioThreads = SettingChecks.range("ioThreads", threads, 1, 64);
            return this;
        }

        /** The engine, not started: a {@link PubSub} starts it when its first server starts. */
        public RedisEngine build() {
            String address = uri.getHost() + ":" + uri.getPort();
            return new RedisEngine(new RedisSettings(uri, address, maxPendingPublishes, reconnectMin,
                    reconnectMax, commandTimeout, ioThreads));
        }
    }
}
