package dev.serverframework.metrics;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.LineProtocol;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pub/sub meters in a Prometheus scrape: real counts, the engine's state, one set per shared PubSub. */
class PubSubMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<Server> servers = new ArrayList<>();
    private final List<ServerMetrics> bound = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        bound.forEach(ServerMetrics::close);
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
        registry.close();
    }

    private Server start(PubSub pubSub) {
        Server s = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(1).ioThreads(1)
                .pubSub(pubSub).protocol(new LineProtocol("line", (c, line) -> c.write(line + "\n")))
                .build().start();
        servers.add(s);
        return s;
    }

    @Test
    void twoServersSharingOnePubSubShowItsCountsOnceWithTheEngineState() throws Exception {
        PubSub shared = PubSub.inProcess();
        Server a = start(shared);
        Server b = start(shared);
        bound.add(ServerMetrics.bind(a, registry, Tags.of("server", "a")));
        bound.add(ServerMetrics.bind(b, registry, Tags.of("server", "b")));
        CountDownLatch got = new CountDownLatch(3);
        b.subscribe("news", m -> got.countDown());
        for (int i = 0; i < 3; i++) {
            a.publish("news", ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(got.await(10, TimeUnit.SECONDS), "the subscriber got the messages");

        List<Scrapes.Sample> samples = Scrapes.parse(registry.scrape(), false);
        assertEquals(List.of(3.0), values(samples, "pubsub_published_total", null), "published, counted once");
        assertEquals(List.of(0.0), values(samples, "pubsub_received_total", null));
        assertEquals(List.of(0.0), values(samples, "pubsub_dropped_total", null));
        assertEquals(List.of(0.0), values(samples, "pubsub_overflowed_total", null));
        assertEquals(List.of(1.0), values(samples, "pubsub_engine_state", "local"));
        assertEquals(List.of(0.0), values(samples, "pubsub_engine_state", "connected"));
        assertEquals(List.of(0.0), values(samples, "pubsub_engine_state", "disconnected"));
        assertEquals("a", samples.stream().filter(s -> s.name().equals("pubsub_published_total"))
                .findFirst().orElseThrow().labels().get("server"), "the first server's tags");
    }

    @Test
    void bindingTheSameMetersAgainHandsBackTheFirst() {
        PubSub pubSub = PubSub.inProcess();
        new PubSubMetrics(pubSub, Tags.empty()).bindTo(registry);
        new PubSubMetrics(pubSub, Tags.empty()).bindTo(registry); // Micrometer returns the registered meters
        pubSub.publish("c", new byte[1]);
        List<Scrapes.Sample> samples = Scrapes.parse(registry.scrape(), false);
        assertEquals(List.of(1.0), values(samples, "pubsub_published_total", null));
        assertEquals(List.of(1.0), values(samples, "pubsub_engine_state", "local"));
    }

    /** Values of the samples named {@code name} (with label state={@code state} when given). */
    private static List<Double> values(List<Scrapes.Sample> samples, String name, String state) {
        return samples.stream().filter(s -> s.name().equals(name))
                .filter(s -> state == null || state.equals(s.labels().get("state")))
                .map(Scrapes.Sample::value).toList();
    }
}
