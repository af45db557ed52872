package dev.serverframework.core;

import io.netty.util.AttributeKey;
import dev.serverframework.core.ConnectionTestSupport.Probe;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The idle timeout: ping after the timeout (the default closes), probes, touch(), per-connection
 * timeouts, ZERO for off, and reads postponing it.
 */
class IdleTimeoutTest {
    private static final AttributeKey<Boolean> PROBED = AttributeKey.valueOf(IdleTimeoutTest.class, "probed");
    private static final Duration TIMEOUT = Duration.ofMillis(300);
    /** Lower bound for "about the timeout", with room for clock and scheduling granularity. */
    private static final long AT_LEAST_MS = 250;

    private final List<Server> servers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Server s : servers) {
            s.stop();
        }
        for (Server s : servers) {
            s.awaitTermination();
        }
    }

    private Server start(ServerBuilder builder) {
        Server s = builder.build();
        servers.add(s);
        return s.start();
    }

    private static long msSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** With the default ping, an idle connection is closed after about the timeout, and it is counted. */
    @Test
    void defaultPingClosesAnIdleConnection() throws Exception {
        Probe p = new Probe("idle", (c, line) -> { });
        Server server = start(local(p).idleTimeout(TIMEOUT));
        long before = server.statistics().idleTimeouts();
        long start = System.nanoTime();
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            assertEquals(TIMEOUT, c.idleTimeout());
            assertTrue(client.isClosedByServer(), "the idle connection was not closed");
            assertTrue(msSince(start) >= AT_LEAST_MS, "closed before the timeout: " + msSince(start) + " ms");
            assertSame(c, p.nextClosed());
            assertEquals(1, p.pings.get());
            assertEquals(before + 1, server.statistics().idleTimeouts());
        }
    }

    /** A ping that sends a probe keeps the connection; the timeout starts again, and the second ping closes. */
    @Test
    void aProbingPingRunsAgainAtTheNextTimeout() throws Exception {
        Probe p = new Probe("probe", (c, line) -> { });
        p.onPing = c -> {
            if (c.attr(PROBED).get() == null) {
                c.attr(PROBED).set(Boolean.TRUE);
                c.write("probe\n");
            } else {
                c.close();
            }
        };
        Server server = start(local(p).idleTimeout(TIMEOUT));
        long before = server.statistics().idleTimeouts();
        try (RawClient client = new RawClient(server.port())) {
            assertEquals("probe", client.readLine());
            long probed = System.nanoTime();
            assertTrue(client.isClosedByServer(), "not closed at the second timeout");
            assertTrue(msSince(probed) >= AT_LEAST_MS, "second ping came early: " + msSince(probed) + " ms");
            assertEquals(2, p.pings.get());
            assertEquals(before + 2, server.statistics().idleTimeouts());
        }
    }

    /**
     * touch() from a periodic task keeps the connection alive across several timeouts; once the touching
     * stops, it is pinged (and closed) once.
     */
    @Test
    void touchFromAPeriodicTaskPostponesTheTimeout() throws Exception {
        int touchesPlanned = 20; // every 50 ms: 1 s, more than three timeouts
        AtomicInteger touches = new AtomicInteger();
        AtomicInteger touchesAtPing = new AtomicInteger(-1);
        Probe p = new Probe("touch", (c, line) -> { });
        p.onPing = c -> {
            touchesAtPing.compareAndSet(-1, touches.get());
            c.close();
        };
        Server server = start(local(p).idleTimeout(TIMEOUT));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            server.runEvery(Duration.ofMillis(50), touchesPlanned, () -> {
                c.touch();
                touches.incrementAndGet();
            });
            assertTrue(client.isClosedByServer(), "not closed after the touching stopped");
            assertEquals(touchesPlanned, touchesAtPing.get(), "pinged while still being touched");
            assertEquals(1, p.pings.get());
        }
    }

    /** Connection.idleTimeout(d) changes the timeout of that connection only. */
    @Test
    void idleTimeoutCanBeSetPerConnection() throws Exception {
        Probe p = new Probe("per", (c, line) -> {
            if (line.startsWith("timeout ")) {
                c.idleTimeout(Duration.ofMillis(Long.parseLong(line.substring(8))));
                c.write("ok " + c.idleTimeout().toMillis() + "\n");
            } else {
                c.write("echo " + line + "\n");
            }
        });
        Server server = start(local(p).idleTimeout(Duration.ofSeconds(30)));
        try (RawClient shortLived = new RawClient(server.port()); RawClient other = new RawClient(server.port())) {
            assertEquals("ok 200", shortLived.send("timeout 200\n").readLine());
            long set = System.nanoTime();
            assertTrue(shortLived.isClosedByServer(), "the shortened timeout did not close the connection");
            assertTrue(msSince(set) >= 150, "closed before its timeout: " + msSince(set) + " ms");
            assertEquals("echo still here", other.send("still here\n").readLine());
            assertEquals(1, p.pings.get());
        }
    }

    /** Duration.ZERO turns the timeout off: per connection, and for the whole server. */
    @Test
    void zeroTurnsTheTimeoutOff() throws Exception {
        Set<Long> pinged = ConcurrentHashMap.newKeySet();
        Probe p = new Probe("zero", (c, line) -> {
            if (line.equals("off")) {
                c.idleTimeout(Duration.ZERO);
                c.write("ok " + c.idleTimeout() + "\n");
            } else {
                c.write("echo " + line + "\n");
            }
        });
        p.onPing = c -> {
            pinged.add(c.id());
            c.write("probe\n");
        };
        Server server = start(local(p).idleTimeout(TIMEOUT));
        try (RawClient off = new RawClient(server.port()); RawClient clock = new RawClient(server.port())) {
            Connection offConnection = p.nextOpened();
            Connection clockConnection = p.nextOpened();
            if (((InetSocketAddress) offConnection.remoteAddress()).getPort()
                    != off.socket().getLocalPort()) {
                Connection t = offConnection;
                offConnection = clockConnection;
                clockConnection = t;
            }
            assertEquals("ok PT0S", off.send("off\n").readLine());
            // The other connection, probed at every timeout, tells that three timeouts have passed.
            for (int i = 0; i < 3; i++) {
                assertEquals("probe", clock.readLine());
            }
            assertTrue(pinged.contains(clockConnection.id()));
            assertFalse(pinged.contains(offConnection.id()), "a connection with the timeout off was pinged");
            assertEquals("echo hi", off.send("hi\n").readLine(), "no probe may come before the echo");
        }

        Probe q = new Probe("never", (c, line) -> { });
        Server noTimeout = start(local(q).idleTimeout(Duration.ZERO));
        try (RawClient client = new RawClient(noTimeout.port())) {
            assertEquals(Duration.ZERO, q.nextOpened().idleTimeout());
        }
    }

    /** Data read from the client postpones the timeout; when the client falls silent, the ping comes. */
    @Test
    void readingDataPostponesTheTimeout() throws Exception {
        int linesPlanned = 20; // every 50 ms: 1 s, more than three timeouts
        AtomicInteger lines = new AtomicInteger();
        AtomicInteger linesAtPing = new AtomicInteger(-1);
        Probe p = new Probe("reads", (c, line) -> lines.incrementAndGet());
        p.onPing = c -> {
            linesAtPing.compareAndSet(-1, lines.get());
            c.close();
        };
        Server server = start(local(p).idleTimeout(TIMEOUT));
        ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
        try (RawClient client = new RawClient(server.port())) {
            AtomicInteger sent = new AtomicInteger();
            // Paces the client's traffic (it is not synchronisation): one line every 50 ms, then silence.
            pacer.scheduleAtFixedRate(() -> {
                if (sent.get() < linesPlanned) {
                    client.send("x\n");
                    sent.incrementAndGet();
                }
            }, 50, 50, TimeUnit.MILLISECONDS);
            assertTrue(client.isClosedByServer(), "not closed after the client fell silent");
            assertEquals(linesPlanned, linesAtPing.get(), "pinged while the client was still sending");
            assertEquals(1, p.pings.get());
        } finally {
            pacer.shutdownNow();
            assertTrue(pacer.awaitTermination(5, TimeUnit.SECONDS));
        }
    }

    /**
     * A long zero-copy download to a client that reads steadily is activity, not idleness: no flush
     * happens while the kernel sends the file, yet the transfer must not be cut at the idle timeout.
     */
    @Test
    void aLongFileTransferIsNotIdle() throws Exception {
        Path file = Files.createTempFile("idle-download", ".bin");
        try {
            byte[] content = ConnectionTestSupport.randomBytes(48 << 20, 7);
            Files.write(file, content);
            AtomicLong sentAt = new AtomicLong();
            AtomicLong pingedWhileSending = new AtomicLong();
            Probe p = new Probe("download", (c, line) ->
                    c.sendFile(file).addListener(f -> sentAt.set(System.nanoTime())));
            // Once the file is all in the kernel's buffers the connection may rightly go idle; before, never.
            p.onPing = c -> {
                if (sentAt.get() == 0) {
                    pingedWhileSending.incrementAndGet();
                }
            };
            Server server = start(local(p).idleTimeout(TIMEOUT));
            try (Socket client = ConnectionTestSupport.smallBufferClient(server.port(), 64 * 1024)) {
                client.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = client.getInputStream();
                byte[] chunk = new byte[256 * 1024];
                int received = 0;
                long started = System.nanoTime();
                while (received < content.length) {
                    int n = in.read(chunk, 0, Math.min(chunk.length, content.length - received));
                    assertTrue(n > 0, "connection closed after " + received + " of " + content.length + " bytes");
                    for (int i = 0; i < n; i++) {
                        if (chunk[i] != content[received + i]) {
                            throw new AssertionError("byte " + (received + i) + " differs");
                        }
                    }
                    received += n;
                    // Read at about 16 MiB/s, so the transfer spans several idle timeouts.
                    long due = started + TimeUnit.MILLISECONDS.toNanos(received / (16 * 1024));
                    LockSupport.parkNanos(due - System.nanoTime());
                }
                assertTrue(msSince(started) > 2 * TIMEOUT.toMillis(), "the transfer was too quick to prove anything");
                Await.until("the transfer to complete on the server", () -> sentAt.get() != 0);
                assertEquals(0, pingedWhileSending.get(), "pinged while the file was still going out");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
