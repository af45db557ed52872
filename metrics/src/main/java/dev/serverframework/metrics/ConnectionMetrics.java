package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerStatistics;
import dev.serverframework.core.ServiceStatistics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;

import java.util.function.ToDoubleFunction;

/**
 * The connections of a {@link Server}, read from its {@link ServerStatistics} (nothing is counted twice):
 * <ul>
 *   <li>{@code server.connections.open} (gauge, tag {@code service});</li>
 *   <li>{@code server.connections.accepted}, {@code .closed}, {@code .rejected} (over the connection
 *       limit), {@code .idle.timeouts}, {@code .write.stalls} (cut: the peer took no output for the
 *       write-stall timeout), {@code .resets} (ended by an I/O error: reset, broken pipe) and
 *       {@code .closed.mid.message} (the peer closed in the middle of a message) (counters);</li>
 *   <li>{@code server.connections.protocol.errors} (counter, tag {@code service});</li>
 *   <li>{@code server.callback.failures} (counter: protocol callbacks and tasks that threw).</li>
 * </ul>
 * Services that appear after binding (a protocol switch) get their meters at the next
 * {@link #refresh()}; {@link ServerMetrics} calls it every second. Thread-safe.
 */
public final class ConnectionMetrics extends PerServiceBinder {
    /**
     * @param server the server to watch; its main protocol's service gets meters at once
     * @param tags   tags added to every meter (e.g. to tell two servers apart in one registry)
     */
    public ConnectionMetrics(Server server, Iterable<Tag> tags) {
        super(server, tags);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "server.connections.accepted", "Connections accepted and admitted", ServerStatistics::accepted);
        counter(registry, "server.connections.closed", "Admitted connections that have closed", ServerStatistics::closed);
        counter(registry, "server.connections.rejected", "Connections refused at the connection limit",
                ServerStatistics::rejected);
        counter(registry, "server.connections.idle.timeouts", "Connections that reached their idle timeout",
                ServerStatistics::idleTimeouts);
        counter(registry, "server.connections.write.stalls",
                "Connections cut because their peer took none of their pending output for the write-stall timeout",
                ServerStatistics::writeStalls);
        counter(registry, "server.connections.resets", "Connections that ended with an I/O error (reset, broken pipe)",
                ServerStatistics::resets);
        counter(registry, "server.connections.closed.mid.message",
                "Connections the peer closed in the middle of a message", ServerStatistics::closedMidMessage);
        counter(registry, "server.callback.failures", "Protocol callbacks and connection tasks that threw",
                ServerStatistics::callbackFailures);
        super.bindTo(registry);
    }

    private void counter(MeterRegistry registry, String name, String description,
                         ToDoubleFunction<ServerStatistics> f) {
        FunctionCounter.builder(name, statistics, f).description(description).tags(tags).register(registry);
    }

    @Override
    void bindService(MeterRegistry r, ServiceStatistics s) {
        Gauge.builder("server.connections.open", s, ServiceStatistics::open)
                .description("Connections open now")
                .tags(tags).tag("service", s.name()).register(r);
        FunctionCounter.builder("server.connections.protocol.errors", s, ServiceStatistics::protocolErrors)
                .description("Bad input reported by the protocol or its codecs")
                .tags(tags).tag("service", s.name()).register(r);
    }
}
