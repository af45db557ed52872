package dev.serverframework.metrics;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server's counters and gauges move as connections open, fail, time out and close. */
class ServerMetricsTest {
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final List<Server> servers = new ArrayList<>();
    private final List<RawClient> clients = new ArrayList<>();
    private ServerMetrics metrics;

    @AfterEach
    void stop() throws InterruptedException {
        clients.forEach(RawClient::close);
        if (metrics != null) {
            metrics.close();
        }
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
        registry.close();
    }

    /** A line server: "bad" is a protocol error (counted, then closed); anything else is echoed. */
    private Server start(int maxConnections, Duration idleTimeout) {
        Server s = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .workers(2).ioThreads(1).maxConnections(maxConnections).idleTimeout(idleTimeout)
                .busyMessage("busy\n")
                .protocol(new LineProtocol("line", (c, line) -> {
                    if (line.equals("bad")) {
                        c.protocolError("bad line");
                        c.close();
                    } else {
                        c.write(line + "\n");
                    }
                }))
                .build().start();
        servers.add(s);
        return s;
    }

    private RawClient connect(Server s) {
        RawClient c = new RawClient(s.port());
        clients.add(c);
        return c;
    }

    private double gauge(String name, String... tags) {
        return registry.get(name).tags(tags).gauge().value();
    }

    private double counter(String name, String... tags) {
        return registry.get(name).tags(tags).functionCounter().count();
    }

    @Test
    void openGaugeAndAcceptedClosedCountersFollowConnections() {
        Server s = start(100, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s, registry);
        assertEquals(0, gauge("server.connections.open", "service", "line"));

        RawClient a = connect(s);
        RawClient b = connect(s);
        a.send("one\n");
        assertEquals("one", a.readLine());
        b.send("two\n");
        assertEquals("two", b.readLine());
        Await.until("two connections open", () -> gauge("server.connections.open", "service", "line") == 2);
        assertEquals(2, counter("server.connections.accepted"));
        assertEquals(0, counter("server.connections.closed"));

        a.close();
        Await.until("one connection open after a close", () -> gauge("server.connections.open", "service", "line") == 1
                && counter("server.connections.closed") == 1);
        assertEquals(2, counter("server.connections.accepted"));
    }

    @Test
    void bytesReadAndWrittenAreCountedByService() {
        Server s = start(100, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s, registry);
        RawClient a = connect(s);
        a.send("hello\n");
        assertEquals("hello", a.readLine());
        Await.until("6 bytes each way", () -> counter("server.io.read", "service", "line") == 6
                && counter("server.io.written", "service", "line") == 6);
    }

    @Test
    void rejectedOverCapacityIsCounted() {
        Server s = start(1, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s, registry);
        RawClient a = connect(s);
        a.send("x\n");
        assertEquals("x", a.readLine());
        RawClient b = connect(s);
        assertEquals("busy", b.readLine());
        assertTrue(b.isClosedByServer());
        Await.until("one rejection", () -> counter("server.connections.rejected") == 1);
        assertEquals(1, counter("server.connections.accepted"));
        assertEquals(1, gauge("server.connections.open", "service", "line"));
    }

    @Test
    void protocolErrorIsCountedForItsService() {
        Server s = start(100, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s, registry);
        RawClient a = connect(s);
        a.send("bad\n");
        assertTrue(a.isClosedByServer());
        Await.until("a protocol error and a close", () -> counter("server.connections.protocol.errors", "service", "line") == 1
                && counter("server.connections.closed") == 1
                && gauge("server.connections.open", "service", "line") == 0);
    }

    @Test
    void idleTimeoutIsCounted() {
        Server s = start(100, Duration.ofMillis(200));
        metrics = ServerMetrics.bind(s, registry);
        RawClient a = connect(s);
        // The default ping closes an idle connection: the client sees the close, the counter moves.
        assertTrue(a.isClosedByServer());
        Await.until("an idle timeout", () -> counter("server.connections.idle.timeouts") == 1
                && gauge("server.connections.open", "service", "line") == 0);
    }

    @Test
    void aPeerResetIsCountedAsAResetNotAsAnotherKindOfEnd() {
        Server s = start(100, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s, registry);
        RawClient a = connect(s);
        assertEquals("x", a.send("x\n").readLine());
        a.reset();
        Await.until("a reset", () -> counter("server.connections.resets") == 1
                && gauge("server.connections.open", "service", "line") == 0);
        assertEquals(0, counter("server.connections.write.stalls"));
        assertEquals(0, counter("server.connections.closed.mid.message"));
    }

    @Test
    void workerGaugesCountersAndWaitTimerMove() throws Exception {
        Server s = start(100, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s, registry);
        assertEquals(2, registry.find("server.worker.queue.depth").gauges().size(), "a queue gauge per worker");
        RawClient a = connect(s);
        for (int i = 0; i < 20; i++) {
            a.send(i + "\n");
            assertEquals(Integer.toString(i), a.readLine());
        }
        Await.until("20 tasks completed", () -> registry.find("server.worker.tasks.completed").functionCounters()
                .stream().mapToDouble(c -> c.count()).sum() >= 20);
        Await.until("queue-wait timer counts tasks", () -> registry.find("server.worker.task.wait").functionTimers()
                .stream().mapToDouble(FunctionTimer::count).sum() >= 20);

        // A task that throws is a failure of its worker.
        CountDownLatch ran = new CountDownLatch(1);
        s.workerGroup().workers().get(0).execute(() -> {
            ran.countDown();
            throw new IllegalStateException("expected by the test");
        });
        assertTrue(ran.await(5, TimeUnit.SECONDS));
        Await.until("a failed task on worker 0",
                () -> counter("server.worker.tasks.failed", "worker", "0") == 1);

        // A queue depth gauge sees tasks wait behind a blocked worker.
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocking = new CountDownLatch(1);
        s.workerGroup().workers().get(1).execute(() -> {
            blocking.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(blocking.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 3; i++) {
            s.workerGroup().workers().get(1).execute(() -> { });
        }
        // At least: the once-a-second service refresh may queue there too.
        assertTrue(gauge("server.worker.queue.depth", "worker", "1") >= 3);
        release.countDown();
        Await.until("queue drained", () -> gauge("server.worker.queue.depth", "worker", "1") == 0);
    }

    @Test
    void broadcastsAreCountedWithTheirFanOut() {
        Server s = start(100, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s, registry);
        RawClient a = connect(s);
        RawClient b = connect(s);
        a.send("a\n");
        a.readLine();
        b.send("b\n");
        b.readLine();
        Await.until("two open", () -> s.count("line") == 2);
        assertEquals(2, s.each(null, "line", c -> c.write("all\n"), null));
        assertEquals("all", a.readLine());
        assertEquals("all", b.readLine());
        assertEquals(1, counter("server.broadcasts"));
        DistributionSummary fanout = registry.get("server.broadcast.fanout").summary();
        assertEquals(1, fanout.count());
        assertEquals(2, fanout.totalAmount());
    }

    @Test
    void nettyJvmAndSystemBindersAreBoundOncePerRegistry() {
        Server s1 = start(100, Duration.ofSeconds(30));
        Server s2 = start(100, Duration.ofSeconds(30));
        metrics = ServerMetrics.bind(s1, registry, Tags.of("server", "one"));
        try (ServerMetrics second = ServerMetrics.bind(s2, registry, Tags.of("server", "two"))) {
            assertNotNull(registry.find("netty.eventexecutor.tasks.pending").tag("server", "one").gauge(),
                    "Micrometer's event-loop binder for the I/O threads");
            assertNotNull(registry.find("jvm.memory.used").gauge());
            assertNotNull(registry.find("jvm.threads.live").gauge());
            assertNotNull(registry.find("jvm.classes.loaded").gauge());
            assertNotNull(registry.find("system.cpu.usage").gauge());
            // Left out or redescribed so that the scrape passes promtool (see ServerMetrics.bindProcess).
            assertEquals(null, registry.find("system.cpu.count").meter());
            assertEquals(null, registry.find("process.cpu.time").meter());
            assertNotNull(registry.get("netty.eventexecutor.tasks.pending").tag("server", "one").gauge()
                    .getId().getDescription(), "netty gauges get help text");
            assertNotNull(registry.find("process.uptime").timeGauge());
            assertNotNull(registry.find("process.files.open").gauge());
            // Each server keeps its own meters under its tags.
            RawClient a = connect(s2);
            a.send("x\n");
            a.readLine();
            Await.until("server two has one open", () -> gauge("server.connections.open", "server", "two", "service", "line") == 1);
            assertEquals(0, gauge("server.connections.open", "server", "one", "service", "line"));
        }
    }

    @Test
    void bindingBeforeStartIsRefused() {
        Server s = Server.builder().port(0).shutdownHook(false).protocol(new LineProtocol("line", (c, l) -> { })).build();
        servers.add(s);
        assertThrows(IllegalStateException.class, () -> ServerMetrics.bind(s, registry));
    }
}
