package dev.serverframework.core.redis;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.PubSubMessage;
import dev.serverframework.core.Subscription;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One "process" of a cluster in a test: a {@link PubSub} over its own {@link RedisEngine}, started, with a
 * single-thread executor for its subscribers (so each sees messages in arrival order) that records what
 * each channel received.
 */
final class RedisNode implements AutoCloseable {
    final RedisEngine engine;
    final PubSub pubSub;
    private final ExecutorService executor;
    private final Map<String, List<PubSubMessage>> received = new ConcurrentHashMap<>();

    RedisNode(String uri) {
        this(RedisEngine.create(uri), true);
    }

    RedisNode(RedisEngine engine, boolean start) {
        this.engine = engine;
        this.pubSub = PubSub.over(engine);
        this.executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-subscriber"));
        if (start) {
            pubSub.start();
        }
    }

    Subscription subscribe(String channel) {
        return pubSub.subscribe(channel, executor, m -> {
            List<PubSubMessage> l = list(channel);
            synchronized (l) {
                l.add(m);
            }
        });
    }

    private List<PubSubMessage> list(String channel) {
        return received.computeIfAbsent(channel, c -> new ArrayList<>());
    }

    /** What {@code channel}'s subscriber got so far, in order. */
    List<PubSubMessage> received(String channel) {
        List<PubSubMessage> l = list(channel);
        synchronized (l) {
            return List.copyOf(l);
        }
    }

    /** Whether {@code channel}'s subscriber got a message with this text. */
    boolean got(String channel, String text) {
        return received(channel).stream().anyMatch(m -> m.text().equals(text));
    }

    @Override
    public void close() {
        pubSub.close();
        executor.shutdownNow();
    }
}
