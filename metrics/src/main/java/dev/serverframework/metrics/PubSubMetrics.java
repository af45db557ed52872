package dev.serverframework.metrics;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.PubSubEngine;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * A {@link PubSub}'s meters: {@code pubsub.published}, {@code pubsub.received} and {@code pubsub.dropped}
 * (function counters over {@link PubSub#published()}, {@link PubSub#received()}, {@link PubSub#dropped()})
 * and {@code pubsub.engine.state}, one gauge per {@link PubSubEngine.State} with tag {@code state}, 1 for
 * the engine's current state and 0 for the others (alert on {@code pubsub_engine_state{state="disconnected"}
 * == 1}).
 *
 * <p>Servers built with one {@code PubSub} share it, and its counts: {@link #bindOnce} binds it once per
 * registry, with the tags of the first server bound, so that summing over servers never counts a message
 * twice. Thread-safe.
 */
public final class PubSubMetrics implements MeterBinder {
    /** The PubSubs bound to each registry (weakly: registries and PubSubs may be dropped). */
    private static final Map<MeterRegistry, Map<PubSub, Boolean>> BOUND =
            Collections.synchronizedMap(new WeakHashMap<>());

    private final PubSub pubSub;
    private final Tags tags;

    /** @param tags tags added to every meter */
    public PubSubMetrics(PubSub pubSub, Iterable<Tag> tags) {
        this.pubSub = Objects.requireNonNull(pubSub, "pubSub");
        this.tags = Tags.of(tags);
    }

    /**
     * Binds {@code pubSub}'s meters to {@code registry} unless they are bound there already (by another
     * server sharing it). Returns whether it bound them now. Any thread.
     */
    public static boolean bindOnce(PubSub pubSub, MeterRegistry registry, Iterable<Tag> tags) {
        synchronized (BOUND) {
            Map<PubSub, Boolean> bound = BOUND.computeIfAbsent(registry, r -> new WeakHashMap<>());
            if (bound.putIfAbsent(pubSub, Boolean.TRUE) != null) {
                return false;
            }
        }
        new PubSubMetrics(pubSub, tags).bindTo(registry);
        return true;
    }

    /**
     * Registers the meters. Registering them again with the same tags changes nothing: Micrometer hands back
     * the meters registered first, which read the first {@code PubSub}, and logs a warning; with other tags a
     * shared {@code PubSub} would be counted twice. Hence {@link #bindOnce}. Any thread.
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        FunctionCounter.builder("pubsub.published", pubSub, PubSub::published).tags(tags)
                .description("Messages published through this process's pub/sub").register(registry);
        FunctionCounter.builder("pubsub.received", pubSub, PubSub::received).tags(tags)
                .description("Messages of other processes the pub/sub engine brought here").register(registry);
        FunctionCounter.builder("pubsub.dropped", pubSub, PubSub::dropped).tags(tags)
                .description("Messages of this process the engine could not send to the other processes")
                .register(registry);
        FunctionCounter.builder("pubsub.overflowed", pubSub, PubSub::overflowed).tags(tags)
                .description("Messages a subscriber missed: it had " + PubSub.MAX_QUEUED_DELIVERIES
                        + " deliveries waiting already").register(registry);
        for (PubSubEngine.State state : PubSubEngine.State.values()) {
            Gauge.builder("pubsub.engine.state", pubSub, p -> p.state() == state ? 1 : 0)
                    .tags(tags).tag("state", state.name().toLowerCase(Locale.ROOT))
                    .description("1 for the pub/sub engine's current state, 0 for the others")
                    .register(registry);
        }
    }
}
