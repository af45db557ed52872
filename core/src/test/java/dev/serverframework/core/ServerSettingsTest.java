package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings fail fast with a message naming the setting and its range; defaults; lifecycle callbacks. */
class ServerSettingsTest {
    private final List<Server> servers = new ArrayList<>();

    @AfterEach
    void stopServers() throws InterruptedException {
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
    }

    private static Protocol echo() {
        return new LineProtocol("echo", (c, line) -> c.write(line + "\n"));
    }

    private static ServerBuilder local() {
        return Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).protocol(echo());
    }

    private Server started(ServerBuilder b) {
        Server s = b.build();
        servers.add(s);
        return s.start();
    }

    /** Asserts an IllegalArgumentException whose message contains every fragment. */
    private static void assertRejected(Executable setting, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, setting);
        for (String f : fragments) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(f),
                    "message should contain '" + f + "': " + e.getMessage());
        }
    }

    // ---- every invalid setting fails at once, naming the setting and the allowed range ----

    @Test
    void portOutOfRangeIsRejected() {
        assertRejected(() -> Server.builder().port(-1), "port", "between 0 and 65535", "-1");
        assertRejected(() -> Server.builder().port(65536), "port", "between 0 and 65535", "65536");
    }

    @Test
    void workersOutOfRangeIsRejected() {
        assertRejected(() -> Server.builder().workers(0), "workers", "between 1 and 1024", "got 0");
        assertRejected(() -> Server.builder().workers(1025), "workers", "between 1 and 1024", "1025");
    }

    @Test
    void ioThreadsOutOfRangeIsRejected() {
        assertRejected(() -> Server.builder().ioThreads(0), "ioThreads", "between 1 and 1024", "got 0");
        assertRejected(() -> Server.builder().ioThreads(1025), "ioThreads", "between 1 and 1024", "1025");
    }

    @Test
    void listenersOutOfRangeIsRejected() {
        assertRejected(() -> Server.builder().listeners(0), "listeners", "between 1 and 64", "got 0");
        assertRejected(() -> Server.builder().listeners(65), "listeners", "between 1 and 64", "65");
    }

    @Test
    void idleTimeoutOutOfRangeIsRejected() {
        String range = "between 0 ms and 24 h";
        assertRejected(() -> Server.builder().idleTimeout(Duration.ofSeconds(-1)), "idleTimeout", range);
        assertRejected(() -> Server.builder().idleTimeout(Duration.ofHours(25)), "idleTimeout", range);
    }

    @Test
    void maxConnectionsOutOfRangeIsRejected() {
        assertRejected(() -> Server.builder().maxConnections(0), "maxConnections", "between 1 and 10000000", "got 0");
        assertRejected(() -> Server.builder().maxConnections(10_000_001), "maxConnections",
                "between 1 and 10000000", "10000001");
    }

    @Test
    void lifecycleTimeoutsOutOfRangeAreRejected() {
        assertRejected(() -> Server.builder().drainWindow(Duration.ofMillis(-1)), "drainWindow",
                "between 0 ms and 60 s");
        assertRejected(() -> Server.builder().drainWindow(Duration.ofSeconds(61)), "drainWindow", "61 s");
        assertRejected(() -> Server.builder().lingerTimeout(Duration.ofSeconds(61)), "lingerTimeout", "61 s");
        assertRejected(() -> Server.builder().writeStallTimeout(Duration.ofHours(25)), "writeStallTimeout",
                "between 0 ms and 24 h");
        assertEquals("drainWindow", assertThrows(NullPointerException.class,
                () -> Server.builder().drainWindow(null)).getMessage());
    }

    @Test
    void shutdownGraceOutOfRangeIsRejected() {
        String range = "between 0 ms and 1 h";
        assertRejected(() -> Server.builder().shutdownGrace(Duration.ofMillis(-1)), "shutdownGrace", range);
        assertRejected(() -> Server.builder().shutdownGrace(Duration.ofHours(2)), "shutdownGrace", range);
    }

    @Test
    void tickPeriodOutOfRangeIsRejected() {
        String range = "between 1 ms and 1 h";
        assertRejected(() -> Server.builder().tickPeriod(Duration.ZERO), "tickPeriod", range);
        assertRejected(() -> Server.builder().tickPeriod(Duration.ofNanos(999_999)), "tickPeriod", range);
        assertRejected(() -> Server.builder().tickPeriod(Duration.ofHours(2)), "tickPeriod", range);
    }

    @Test
    void writeBufferWaterMarksOutOfRangeAreRejected() {
        assertRejected(() -> Server.builder().writeBufferWaterMarks(1, 0),
                "writeBufferHighWaterMark", "between 1 and " + (64 << 20));
        assertRejected(() -> Server.builder().writeBufferWaterMarks(1, (64 << 20) + 1),
                "writeBufferHighWaterMark", "between 1 and " + (64 << 20));
        assertRejected(() -> Server.builder().writeBufferWaterMarks(0, 1024),
                "writeBufferLowWaterMark", "between 1 and 1024");
        // low above high: the allowed range of low is up to high
        assertRejected(() -> Server.builder().writeBufferWaterMarks(2048, 1024),
                "writeBufferLowWaterMark", "between 1 and 1024", "2048");
    }

    @Test
    void missingProtocolIsRejectedAtBuild() {
        assertRejected(() -> Server.builder().port(0).build(), "protocol");
    }

    @Test
    void bindAddressThatDoesNotResolveIsRejected() {
        assertRejected(() -> Server.builder().bindAddress("no-such-host.invalid"),
                "bindAddress", "no-such-host.invalid", "does not resolve");
    }

    @Test
    void clientSslContextForTlsIsRejected() throws Exception {
        SslContext client = SslContextBuilder.forClient().build();
        assertRejected(() -> Server.builder().tls(client), "tls", "server SslContext");
    }

    @Test
    void nullSettingsFailAtOnceNamingTheSetting() {
        // Null is a programming error: NullPointerException (Objects.requireNonNull), still naming the setting.
        assertEquals("idleTimeout", assertThrows(NullPointerException.class,
                () -> Server.builder().idleTimeout(null)).getMessage());
        assertEquals("shutdownGrace", assertThrows(NullPointerException.class,
                () -> Server.builder().shutdownGrace(null)).getMessage());
        assertEquals("tickPeriod", assertThrows(NullPointerException.class,
                () -> Server.builder().tickPeriod(null)).getMessage());
        assertEquals("transport", assertThrows(NullPointerException.class,
                () -> Server.builder().transport(null)).getMessage());
        assertEquals("protocol", assertThrows(NullPointerException.class,
                () -> Server.builder().protocol(null)).getMessage());
    }

    @Test
    void boundaryValuesAreAccepted() {
        assertDoesNotThrow(() -> Server.builder()
                .port(0).port(65535)
                .workers(1).workers(1024)
                .ioThreads(1).ioThreads(1024)
                .listeners(1).listeners(64)
                .idleTimeout(Duration.ZERO).idleTimeout(Duration.ofHours(24))
                .maxConnections(1).maxConnections(10_000_000)
                .shutdownGrace(Duration.ZERO).shutdownGrace(Duration.ofHours(1))
                .drainWindow(Duration.ZERO).drainWindow(Duration.ofMinutes(1))
                .lingerTimeout(Duration.ZERO).lingerTimeout(Duration.ofMinutes(1))
                .writeStallTimeout(Duration.ZERO).writeStallTimeout(Duration.ofHours(24))
                .tickPeriod(Duration.ofMillis(1)).tickPeriod(Duration.ofHours(1))
                .writeBufferWaterMarks(1, 1).writeBufferWaterMarks(64 << 20, 64 << 20)
                .tls(null)
                .protocol(echo())
                .settings());
    }

    // ---- defaults ----

    @Test
    void defaults() throws IOException {
        ServerSettings s = Server.builder().protocol(echo()).settings();
        assertEquals(8080, s.port());
        assertEquals(Duration.ofSeconds(5), s.idleTimeout());
        assertEquals(Duration.ofSeconds(5), s.shutdownGrace());
        assertEquals(Duration.ofSeconds(1), s.drainWindow());
        assertEquals(Duration.ofSeconds(2), s.lingerTimeout());
        assertEquals(Duration.ofSeconds(60), s.writeStallTimeout());
        assertEquals(Duration.ofSeconds(1), s.tickPeriod());
        assertEquals(Transport.AUTO, s.transport());
        assertEquals(1, s.listeners());
        assertEquals(Runtime.getRuntime().availableProcessors(), s.workers());
        assertTrue(s.shutdownHook());
        assertNull(s.busyMessage());
        assertNull(s.sslContext());
        assertEquals("0.0.0.0", s.bindAddress().getHostAddress());

        // maxConnections comes from the open-file limit: positive and below it (room for the server's own files).
        long openFileLimit = softOpenFileLimit();
        assertTrue(s.maxConnections() > 0, "maxConnections " + s.maxConnections());
        assertTrue(s.maxConnections() < openFileLimit,
                "maxConnections " + s.maxConnections() + " must stay below the open-file limit " + openFileLimit);
    }

    /** The soft RLIMIT_NOFILE of this process (what `ulimit -n` prints in it), from /proc/self/limits. */
    private static long softOpenFileLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                return "unlimited".equals(parts[0]) ? Long.MAX_VALUE : Long.parseLong(parts[0]);
            }
        }
        throw new AssertionError("no 'Max open files' in /proc/self/limits");
    }

    @Test
    void settingsKeepTheBusyMessageDefensively() {
        ServerSettings s = Server.builder().protocol(echo()).busyMessage("busy\n").settings();
        s.busyMessage()[0] = 'X';
        assertEquals("busy\n", new String(s.busyMessage(), StandardCharsets.UTF_8));
    }

    // ---- lifecycle callbacks ----

    @Test
    void onInitRunsAfterBindOnTheStartingThreadAndSeesTheRealPort() {
        AtomicInteger portInside = new AtomicInteger(-2);
        AtomicReference<Thread> threadInside = new AtomicReference<>();
        AtomicReference<Boolean> acceptsInside = new AtomicReference<>();
        Server server = started(local().onInit(s -> {
            portInside.set(s.port());
            threadInside.set(Thread.currentThread());
            // already bound: a client can connect and be served from inside onInit
            try (RawClient c = new RawClient(s.port())) {
                acceptsInside.set("hi".equals(c.send("hi\n").readLine()));
            }
        }));
        assertTrue(portInside.get() > 0, "port inside onInit: " + portInside.get());
        assertEquals(server.port(), portInside.get());
        assertSame(Thread.currentThread(), threadInside.get());
        assertEquals(Boolean.TRUE, acceptsInside.get());
    }

    @Test
    void onFinishRunsOnceAfterStop() throws InterruptedException {
        AtomicInteger finished = new AtomicInteger();
        AtomicReference<Boolean> runningInside = new AtomicReference<>();
        Server server = started(local().onFinish(s -> {
            finished.incrementAndGet();
            runningInside.set(s.isRunning());
        }));
        assertEquals(0, finished.get(), "onFinish must not run while the server runs");
        server.stop();
        server.stop();
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        assertEquals(1, finished.get());
        assertEquals(Boolean.FALSE, runningInside.get());
        server.stop();
        assertEquals(1, finished.get(), "a stop after termination must not run onFinish again");
    }

    @Test
    void onTickRunsRepeatedlyAtTheTickPeriodOnAWorker() {
        Duration period = Duration.ofMillis(20);
        List<Long> tickNanos = new CopyOnWriteArrayList<>();
        Set<Thread> tickThreads = ConcurrentHashMap.newKeySet();
        long before = System.nanoTime();
        Server server = started(local().workers(2).tickPeriod(period).onTick(s -> {
            tickNanos.add(System.nanoTime());
            tickThreads.add(Thread.currentThread());
        }));
        Await.until("5 ticks", () -> tickNanos.size() >= 5);
        Set<Thread> workerThreads = workerThreads(server);
        assertTrue(workerThreads.containsAll(tickThreads), "ticks ran on " + tickThreads);
        // A fixed-rate tick never comes early: the k-th is at least k periods after start began.
        for (int k = 1; k <= 5; k++) {
            long elapsed = tickNanos.get(k - 1) - before;
            assertTrue(elapsed >= k * period.toNanos(),
                    "tick " + k + " came " + elapsed / 1_000 + " us after start, before " + k + " periods");
        }
    }

    @Test
    void onIdleRunsOnWorkerThreads() {
        Set<Thread> idleThreads = ConcurrentHashMap.newKeySet();
        Server server = started(local().workers(2).onIdle(s -> idleThreads.add(Thread.currentThread())));
        Await.until("both workers to go idle", () -> idleThreads.size() == 2);
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("x", c.send("x\n").readLine());
        }
        assertEquals(workerThreads(server), idleThreads);
    }

    @Test
    void onThreadStartRunsOnceInEachWorkerThread() {
        List<Thread> initThreads = new CopyOnWriteArrayList<>();
        List<Thread> seenInOnData = new CopyOnWriteArrayList<>();
        Consumer<Server> init = s -> initThreads.add(Thread.currentThread());
        Server server = started(Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(3)
                .onThreadStart(init)
                .protocol(new LineProtocol("echo", (c, line) -> {
                    seenInOnData.add(Thread.currentThread());
                    c.write(line + "\n");
                })));
        Await.until("3 worker threads to start", () -> initThreads.size() >= 3);
        // Work on every worker: callbacks run after the thread's init callback.
        for (int i = 0; i < 6; i++) {
            try (RawClient c = new RawClient(server.port())) {
                assertEquals("x" + i, c.send("x" + i + "\n").readLine());
            }
        }
        assertEquals(3, initThreads.size(), "onThreadStart ran " + initThreads);
        assertEquals(3, new HashSet<>(initThreads).size(), "once per thread: " + initThreads);
        assertEquals(workerThreads(server), new HashSet<>(initThreads));
        assertTrue(new HashSet<>(initThreads).containsAll(seenInOnData));
    }

    private static Set<Thread> workerThreads(Server server) {
        assertNotNull(server.workerGroup());
        Set<Thread> threads = new HashSet<>();
        for (Worker w : server.workerGroup().workers()) {
            threads.add(w.thread());
        }
        return threads;
    }
}
