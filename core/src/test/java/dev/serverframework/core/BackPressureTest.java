package dev.serverframework.core;

import io.netty.util.AttributeKey;
import dev.serverframework.core.ConnectionTestSupport.Probe;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static dev.serverframework.core.ConnectionTestSupport.randomBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Back-pressure both ways: writability and onReady towards a slow client, pause/resume of reading from it. */
class BackPressureTest {
    private static final AttributeKey<int[]> OFFSET = AttributeKey.valueOf(BackPressureTest.class, "offset");
    /** More than the kernel buffers on this machine (tcp_wmem max 4 MiB) so writes must wait in the server. */
    private static final int BIG = 6 * 1024 * 1024;
    private static final int CHUNK = 64 * 1024;

    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private Server start(ServerBuilder builder) {
        server = builder.writeBufferWaterMarks(8 * 1024, 32 * 1024).idleTimeout(Duration.ofSeconds(60)).build();
        return server.start();
    }

    /**
     * A client that stops reading makes the connection !isWritable(); once it reads again the protocol's
     * onReady runs and the connection is writable; every byte arrives.
     */
    @Test
    void aStalledClientMakesTheConnectionUnwritableAndOnReadyFollowsItsReading() throws Exception {
        byte[] data = randomBytes(BIG, 9);
        CountDownLatch written = new CountDownLatch(1);
        Probe p = new Probe("bp", (c, line) -> {
            for (int off = 0; off < BIG; off += CHUNK) {
                c.write(Unpooled.wrappedBuffer(data, off, CHUNK));
            }
            written.countDown();
        });
        start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            assertTrue(c.isWritable());
            client.send("fill\n");
            assertTrue(written.await(10, TimeUnit.SECONDS));
            Await.until("the connection to become unwritable", () -> !c.isWritable());
            // onReady calls from writability flips before the socket filled have run once a task queued
            // behind them on the loop and then on the connection's executor has.
            c.ioLoop().submit(() -> { }).get(10, TimeUnit.SECONDS);
            c.executor().submit(() -> { }).get(10, TimeUnit.SECONDS);
            assertFalse(c.isWritable(), "writable although the client reads nothing");
            int readiesBefore = p.readies.get();

            assertArrayEquals(data, client.readExactly(data.length));
            Await.until("onReady after the client read", () -> p.readies.get() > readiesBefore);
            Await.until("the connection to be writable", c::isWritable);
        }
    }

    /**
     * A producer paced by isWritable()/onReady sends a large stream to a slow client without losing or
     * reordering a byte.
     */
    @Test
    void aProducerPacedByOnReadyLosesNothing() throws Exception {
        byte[] data = randomBytes(BIG, 10);
        Probe p = new Probe("producer", (c, line) -> {
            c.attr(OFFSET).set(new int[] {0});
            produce(c, data);
        }) {
            @Override
            public void onReady(Connection connection) {
                super.onReady(connection);
                if (connection.attr(OFFSET).get() != null) {
                    produce(connection, data);
                }
            }
        };
        start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            client.send("go\n");
            assertArrayEquals(data, client.readExactly(data.length));
            assertTrue(p.readies.get() > 0, "the producer was never paused and resumed");
        }
    }

    /** Writes chunks while the connection is writable; onReady calls it again. On the connection's executor. */
    private static void produce(Connection c, byte[] data) {
        int[] offset = c.attr(OFFSET).get();
        while (offset[0] < data.length && c.isWritable()) {
            c.write(Unpooled.wrappedBuffer(data, offset[0], CHUNK));
            offset[0] += CHUNK;
        }
    }

    /**
     * pauseReading() stops onData while the client keeps sending; resumeReading() delivers everything,
     * in order. Paused from a callback, and again from another thread.
     */
    @Test
    void pauseAndResumeReadingStopAndRestartDelivery() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        AtomicReference<CountDownLatch> arrived = new AtomicReference<>(new CountDownLatch(1));
        Probe p = new Probe("pause", (c, line) -> {
            if (line.equals("pause")) {
                c.pauseReading();
                c.write("paused\n");
            } else {
                got.add(line);
                arrived.get().countDown();
            }
        });
        start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            ServiceStatistics stats = server.statistics().service("pause");

            assertEquals("paused", client.send("pause\n").readLine());
            long readBefore = stats.bytesRead();
            List<String> expected = new ArrayList<>();
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 1000; i++) {
                expected.add("line " + i);
                burst.append("line ").append(i).append('\n');
            }
            client.send(burst.toString());
            // A window in which delivery would show; the latch opens at the first line delivered.
            assertFalse(arrived.get().await(500, TimeUnit.MILLISECONDS), "data was delivered while paused");
            assertEquals(readBefore, stats.bytesRead(), "the server read from the socket while paused");

            c.resumeReading();
            Await.until("every line after resume", () -> got.size() == expected.size());
            assertEquals(expected, got);

            // Again, paused from the test thread: once the loop has applied it, nothing is read.
            c.pauseReading();
            c.ioLoop().submit(() -> { }).get(10, TimeUnit.SECONDS);
            arrived.set(new CountDownLatch(1));
            int size = got.size();
            client.send("more 1\nmore 2\n");
            assertFalse(arrived.get().await(300, TimeUnit.MILLISECONDS), "data was delivered while paused");
            assertEquals(size, got.size(), "data was delivered while paused");
            c.resumeReading();
            Await.until("the lines sent while paused", () -> got.size() == size + 2);
            assertEquals(List.of("more 1", "more 2"), got.subList(size, size + 2));
        }
    }
}
