package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * Binds every metric of a running {@link Server} to a registry with one call:
 *
 * <pre>{@code
 * Server server = Server.builder()...build().start();
 * ServerMetrics.bind(server, registry);
 * }</pre>
 *
 * <p>That is {@link ConnectionMetrics}, {@link ByteMetrics}, {@link WorkerMetrics} and
 * {@link BroadcastMetrics} for the server, {@link PubSubMetrics} for its pub/sub (once per registry when
 * servers share one), Micrometer's {@link NettyEventExecutorMetrics} for its I/O
 * event loops, and, once per registry, Micrometer's {@link NettyAllocatorMetrics} for Netty's default
 * allocator and its JVM and system binders (memory, GC, threads, class loading, processor, file
 * descriptors, uptime). HTTP metrics are bound to the protocol instead: {@link HttpMetrics#install}.
 *
 * <p>Two servers in one registry need telling apart: give them {@code tags} (e.g. {@code server=api}).
 * Thread-safe.
 */
public final class ServerMetrics implements AutoCloseable {
    /** Registries that have the process-wide binders already (weakly: a registry may be dropped). */
    private static final Map<MeterRegistry, JvmGcMetrics> PROCESS_BOUND =
            Collections.synchronizedMap(new WeakHashMap<>());

    private final ConnectionMetrics connections;
    private final ByteMetrics bytes;
    private final BroadcastMetrics broadcasts;
    private final ScheduledFuture<?> refresh;

    private ServerMetrics(Server server, MeterRegistry registry, Tags tags) {
        connections = new ConnectionMetrics(server, tags);
        bytes = new ByteMetrics(server, tags);
        broadcasts = new BroadcastMetrics(server, tags);
        connections.bindTo(registry);
        bytes.bindTo(registry);
        broadcasts.bindTo(registry);
        new WorkerMetrics(server.workerGroup(), tags).bindTo(registry);
        PubSubMetrics.bindOnce(server.pubSub(), registry, tags);
        new NettyEventExecutorMetrics(server.ioGroup(), tags).bindTo(registry);
        describe(registry, "netty.eventexecutor.tasks.pending", "Tasks waiting in an I/O event loop's queue");
        bindProcess(registry);
        // Services can appear later (a connection switching protocol): pick them up once a second.
        refresh = server.runEvery(Duration.ofSeconds(1), 0, this::refresh);
    }

    /** {@link #bind(Server, MeterRegistry, Iterable)} without extra tags. */
    public static ServerMetrics bind(Server server, MeterRegistry registry) {
        return bind(server, registry, Tags.empty());
    }

    /**
     * Binds all of {@code server}'s metrics, each with {@code tags}. Call it once the server has started
     * (after {@link Server#start()}, or in its {@code onInit} callback). Any thread.
     *
     * @throws IllegalStateException when the server has not started
     */
    public static ServerMetrics bind(Server server, MeterRegistry registry, Iterable<Tag> tags) {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(registry, "registry");
        if (server.workerGroup() == null || server.ioGroup() == null) {
            throw new IllegalStateException("bind metrics once the server has started (after start() or in onInit)");
        }
        return new ServerMetrics(server, registry, Tags.of(tags));
    }

    /**
     * Binds the process-wide binders (JVM, system, Netty's default allocator) to {@code registry}, unless
     * they are bound already: binding them twice would count every GC pause twice. Any thread.
     */
    public static void bindProcess(MeterRegistry registry) {
        synchronized (PROCESS_BOUND) {
            if (PROCESS_BOUND.containsKey(registry)) {
                return;
            }
            new JvmMemoryMetrics().bindTo(registry);
            JvmGcMetrics gc = new JvmGcMetrics();
            gc.bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new ClassLoaderMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            // Two of its meters fail Prometheus' naming rules (promtool check metrics): a gauge ending in
            // "_count", and a CPU time counter in nanoseconds ("_ns_total", whose help text also trips older
            // OpenMetrics parsers). process.cpu.usage and system.cpu.usage say the same, cleanly.
            removeAll(registry, "system.cpu.count");
            removeAll(registry, "process.cpu.time");
            // Their help texts quote words; the OpenMetrics parser of Prometheus 2.x (Debian 12's 2.42)
            // rejects the escaped quote and with it the whole scrape.
            describe(registry, "process.cpu.usage", "The recent CPU usage of the Java Virtual Machine process");
            describe(registry, "system.cpu.usage", "The recent CPU usage of the system the application runs in");
            new FileDescriptorMetrics().bindTo(registry);
            new UptimeMetrics().bindTo(registry);
            if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
                new NettyAllocatorMetrics(provider).bindTo(registry);
                describe(registry, "netty.allocator.memory.used", "Memory used by Netty's default buffer allocator");
            }
            PROCESS_BOUND.put(registry, gc);
        }
    }

    private static void removeAll(MeterRegistry registry, String name) {
        for (Meter m : registry.find(name).meters()) {
            registry.remove(m);
        }
    }

    /**
     * Gives the gauges named {@code name} that have no description, or one with quotes, this one: Micrometer's
     * Netty binders leave it out, which Prometheus lints as missing help text, and quotes break older
     * OpenMetrics parsers. Each is re-registered as a gauge reading
     * the original (held strongly, since the registry no longer holds it).
     */
    private static void describe(MeterRegistry registry, String name, String description) {
        for (Gauge g : registry.find(name).gauges()) {
            Meter.Id id = g.getId();
            if (id.getDescription() == null || id.getDescription().indexOf('"') >= 0) {
                registry.remove(g);
                Gauge.builder(name, g, Gauge::value).tags(id.getTags()).baseUnit(id.getBaseUnit())
                        .description(description).strongReference(true).register(registry);
            }
        }
    }

    /** Registers the meters of services that appeared since binding. Any thread. */
    public void refresh() {
        connections.refresh();
        bytes.refresh();
    }

    /** Stops updating the service list and removes the broadcast listener; the meters stay. */
    @Override
    public void close() {
        refresh.cancel(false);
        broadcasts.close();
    }
}
