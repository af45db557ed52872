package dev.serverframework.core;

import dev.serverframework.core.ConnectionTestSupport.Probe;
import dev.serverframework.core.testing.Await;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static dev.serverframework.core.ConnectionTestSupport.randomBytes;
import static dev.serverframework.core.ConnectionTestSupport.smallBufferClient;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Idle and stalled are different: a peer that stops reading while output is pending is never idle
 * (its output waits, whatever the idle timeout says) and is cut only after the write-stall timeout
 * without progress; a peer that reads slowly makes progress and is never cut; a pause in reading that the
 * protocol asked for is not idleness either.
 */
class WriteStallTest {
    private static final int BIG = 8 * 1024 * 1024;
    private static final int CHUNK = 64 * 1024;

    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    /** Answers any line with {@code data}; the future of its last write goes to {@code lastWrite}. */
    private static Probe flooding(byte[] data, AtomicReference<ChannelFuture> lastWrite) {
        return new Probe("stall", (c, line) -> {
            ChannelFuture f = null;
            for (int off = 0; off < data.length; off += CHUNK) {
                f = c.write(Unpooled.wrappedBuffer(data, off, CHUNK));
            }
            lastWrite.set(f);
        });
    }

    @Test
    void aPeerThatStopsReadingIsCutAtTheStallTimeoutAndIsNeverIdle() throws Exception {
        Probe p = flooding(new byte[BIG], new AtomicReference<>());
        server = local(p).idleTimeout(Duration.ofMillis(100)).writeStallTimeout(Duration.ofMillis(800))
                .build().start();
        try (Socket client = smallBufferClient(server.port(), 16 * 1024)) {
            Connection c = p.nextOpened();
            long start = System.nanoTime();
            client.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(c, p.nextClosed());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(ms >= 800, "cut after " + ms + " ms, before the stall timeout");
            assertEquals(0, p.pings.get(), "a stalled connection is not idle: no ping");
            assertEquals(1, server.statistics().writeStalls());
            assertEquals(0, server.statistics().idleTimeouts());
        }
    }

    @Test
    void aSlowReaderMakesProgressAndGetsEverything() throws Exception {
        byte[] data = randomBytes(2 * 1024 * 1024, 3);
        AtomicReference<ChannelFuture> lastWrite = new AtomicReference<>();
        AtomicInteger pingsWhileSending = new AtomicInteger();
        Probe p = flooding(data, lastWrite);
        // Once the last bytes are in the kernel's buffers the connection may rightly go idle; before, never.
        p.onPing = c -> {
            if (lastWrite.get() == null || !lastWrite.get().isDone()) {
                pingsWhileSending.incrementAndGet();
            }
        };
        server = local(p).idleTimeout(Duration.ofMillis(200)).writeStallTimeout(Duration.ofMillis(400))
                .build().start();
        try (Socket client = smallBufferClient(server.port(), 16 * 1024)) {
            client.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.getInputStream();
            byte[] got = new byte[data.length];
            int off = 0;
            long started = System.nanoTime();
            while (off < data.length) {
                int n = in.read(got, off, Math.min(16 * 1024, data.length - off));
                assertTrue(n > 0, "cut after " + off + " bytes");
                off += n;
                // Pacing a slow reader (about 1 MiB/s, so the transfer spans several stall timeouts).
                LockSupport.parkNanos(started + TimeUnit.MICROSECONDS.toNanos(off) - System.nanoTime());
            }
            assertTrue(Arrays.equals(data, got), "the bytes differ");
            assertEquals(0, server.statistics().writeStalls());
            assertEquals(0, pingsWhileSending.get(), "a connection whose output makes progress is not idle");
        }
    }

    @Test
    void aReadingPauseTheProtocolAskedForIsNotIdleness() throws Exception {
        CountDownLatch paused = new CountDownLatch(1);
        AtomicReference<Connection> conn = new AtomicReference<>();
        Probe p = new Probe("paused", (c, line) -> c.write(line + "\n")) {
            @Override
            public void onOpen(Connection c) {
                super.onOpen(c);
                conn.set(c);
                c.pauseReading();
                c.ioLoop().execute(paused::countDown);
            }
        };
        server = local(p).idleTimeout(Duration.ofMillis(150)).build().start();
        try (Socket client = smallBufferClient(server.port(), 64 * 1024)) {
            assertTrue(paused.await(10, TimeUnit.SECONDS));
            long since = System.nanoTime();
            Await.until("several idle timeouts to pass", () -> System.nanoTime() - since > TimeUnit.MILLISECONDS.toNanos(600));
            assertEquals(0, p.pings.get(), "pinged while the server was not reading");
            conn.get().resumeReading();
            Await.until("the idle timeout to run once reading resumed", () -> p.pings.get() == 1);
        }
    }
}
