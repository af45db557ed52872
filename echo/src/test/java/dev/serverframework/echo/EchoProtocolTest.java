package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.core.Server;
import dev.serverframework.core.ServerBuilder;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The echo protocol over real sockets: byte-exact echo, bounded memory under a client that does not read, and the demo's options. */
class EchoProtocolTest {
    private static final int MiB = 1024 * 1024;

    private Server server;
    private ExecutorService pool;

    @AfterEach
    void stop() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private static ServerBuilder local(Protocol protocol) {
        return Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).protocol(protocol)
                .idleTimeout(Duration.ofSeconds(60));
    }

    private Server start(ServerBuilder builder) {
        server = builder.build().start();
        return server;
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static Socket connect(int port) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Writes {@code data} in uneven chunks from its own thread; reads it back on this one. */
    private static byte[] echoConcurrently(ExecutorService pool, int port, byte[] data, long seed) throws Exception {
        try (Socket s = connect(port)) {
            OutputStream out = s.getOutputStream();
            Future<?> writer = pool.submit(() -> {
                Random r = new Random(seed);
                for (int off = 0; off < data.length; ) {
                    int n = Math.min(data.length - off, 1 + r.nextInt(96 * 1024));
                    out.write(data, off, n);
                    off += n;
                }
                out.flush();
                return null;
            });
            byte[] got = readExactly(s.getInputStream(), data.length);
            writer.get(10, TimeUnit.SECONDS);
            return got;
        }
    }

    private static byte[] readExactly(InputStream in, int n) throws Exception {
        byte[] buf = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(buf, off, n - off);
            if (r < 0) {
                throw new AssertionError("connection closed after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return buf;
    }

    /** Every byte comes back, in order, unchanged: 16 concurrent connections, 4 MiB of random bytes each. */
    @Test
    void randomBinaryDataComesBackByteIdenticalOnManyConcurrentConnections() throws Exception {
        start(local(new EchoProtocol()));
        int connections = 16;
        pool = Executors.newFixedThreadPool(connections * 2);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            long seed = 100 + i;
            byte[] data = randomBytes(4 * MiB, seed);
            results.add(pool.submit(() -> Arrays.equals(data, echoConcurrently(pool, server.port(), data, seed))));
        }
        for (int i = 0; i < connections; i++) {
            assertTrue(results.get(i).get(30, TimeUnit.SECONDS), "connection " + i + " got different bytes back");
        }
    }

    /**
     * A client pushes 64 MiB without reading: the server stops reading from it, so the client's writes
     * stall once the socket buffers are full (a server that kept reading would take all 64 MiB); the
     * memory the server holds for the connection (its buffer pool and the channel's outbound buffer)
     * stays under 16 MiB all the while, and onReady resumes it; the client then reads everything back
     * intact.
     */
    @Test
    void aClientThatSendsWithoutReadingCannotMakeTheServerBufferWithoutBound() throws Exception {
        Watched watched = new Watched(new EchoProtocol());
        start(local(watched));
        int total = 64 * MiB;
        byte[] data = randomBytes(total, 7);
        pool = Executors.newFixedThreadPool(1);
        AtomicLong sent = new AtomicLong();
        try (Socket s = connect(server.port())) {
            OutputStream out = s.getOutputStream();
            Future<?> writer = pool.submit(() -> {
                for (int off = 0; off < total; off += 256 * 1024) {
                    out.write(data, off, 256 * 1024);
                    sent.addAndGet(256 * 1024);
                }
                out.flush();
                return null;
            });
            // The client reads nothing yet: the server must stop reading from it, and so the client's
            // writes must stall once the kernel's socket buffers are full, long before 64 MiB.
            Await.until("the server to pause reading", () -> watched.pauses.get() > 0);
            Quiet quiet = new Quiet(sent::get, Duration.ofMillis(300));
            Await.until("the client's sending to stall or finish", Duration.ofSeconds(20),
                    () -> writer.isDone() || quiet.getAsBoolean());
            assertFalse(writer.isDone(), "the client sent all 64 MiB although it read nothing: the server kept reading");
            assertTrue(watched.bytesSeen.get() < total);

            byte[] got = readExactly(s.getInputStream(), total);
            writer.get(10, TimeUnit.SECONDS);
            assertArrayEquals(data, got, "the echo differs from what was sent");
        }
        assertTrue(watched.readies.get() > 0, "onReady never resumed the paused connection");
        long bound = 16L * MiB;
        assertTrue(watched.maxPooled.get() < bound,
                "the server's buffers for the connection reached " + watched.maxPooled.get() + " bytes");
        assertTrue(watched.maxOutbound.get() < bound,
                "the channel's outbound buffer reached " + watched.maxOutbound.get() + " bytes");
    }

    /** True once a value has not changed for a while: how a test sees a stream that can go no further. */
    private static final class Quiet implements BooleanSupplier {
        private final LongSupplier value;
        private final long quietNanos;
        private long last = Long.MIN_VALUE;
        private long since;

        Quiet(LongSupplier value, Duration quiet) {
            this.value = value;
            this.quietNanos = quiet.toNanos();
        }

        @Override
        public boolean getAsBoolean() {
            long v = value.getAsLong();
            long now = System.nanoTime();
            if (v != last) {
                last = v;
                since = now;
                return false;
            }
            return now - since >= quietNanos;
        }
    }

    /**
     * Runs an echo protocol on a buffer pool of its own and, after each callback on the I/O loop, notes the
     * memory the pool and the channel's outbound buffer hold, and when reading was paused.
     */
    private static final class Watched implements Protocol<ByteBuf> {
        final EchoProtocol echo;
        final PooledByteBufAllocator alloc = new PooledByteBufAllocator(true);
        final AtomicLong maxPooled = new AtomicLong();
        final AtomicLong maxOutbound = new AtomicLong();
        final AtomicLong bytesSeen = new AtomicLong();
        final AtomicInteger pauses = new AtomicInteger();
        final AtomicInteger readies = new AtomicInteger();
        final AtomicReference<Channel> channel = new AtomicReference<>();

        Watched(EchoProtocol echo) {
            this.echo = echo;
        }

        @Override
        public String service() {
            return echo.service();
        }

        @Override
        public Execution execution() {
            return echo.execution();
        }

        @Override
        public void initPipeline(ChannelPipeline pipeline) {
            pipeline.channel().config().setAllocator(alloc);
            channel.set(pipeline.channel());
            echo.initPipeline(pipeline);
        }

        @Override
        public void onOpen(Connection connection) {
            echo.onOpen(connection);
        }

        @Override
        public void onData(Connection connection, ByteBuf message) {
            bytesSeen.addAndGet(message.readableBytes());
            echo.onData(connection, message);
            if (!connection.isWritable()) {
                pauses.incrementAndGet(); // EchoProtocol paused reading just now
            }
            sample();
        }

        @Override
        public void onInputTooLong(Connection connection, TooLongFrameException cause) {
            echo.onInputTooLong(connection, cause);
        }

        @Override
        public void onReady(Connection connection) {
            readies.incrementAndGet();
            sample();
            echo.onReady(connection);
        }

        @Override
        public void onClose(Connection connection) {
            echo.onClose(connection);
        }

        private void sample() {
            maxPooled.accumulateAndGet(alloc.metric().usedDirectMemory() + alloc.metric().usedHeapMemory(), Math::max);
            ChannelOutboundBuffer out = channel.get().unsafe().outboundBuffer();
            if (out != null) {
                maxOutbound.accumulateAndGet(out.totalPendingWriteBytes(), Math::max);
            }
        }
    }

    /** A client that half-closes after sending (as nc and socat do) still gets every byte back, then EOF. */
    @Test
    void aHalfCloseEndsTheConnectionOnlyAfterEverythingIsEchoed() throws Exception {
        start(local(new EchoProtocol()));
        byte[] data = randomBytes(8 * MiB, 11);
        pool = Executors.newFixedThreadPool(1);
        try (Socket s = connect(server.port())) {
            Future<?> writer = pool.submit(() -> {
                s.getOutputStream().write(data);
                s.shutdownOutput();
                return null;
            });
            byte[] got = s.getInputStream().readAllBytes();
            writer.get(10, TimeUnit.SECONDS);
            assertArrayEquals(data, got);
        }
    }

    /** The plain echo has no greeting and no line mode: "bye" is just bytes, echoed, and the connection stays. */
    @Test
    void thePlainEchoIsTheDefault() throws Exception {
        start(local(new EchoProtocol()));
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("bye", c.send("bye\n").readLine());
            assertEquals("still here", c.send("still here\n").readLine());
        }
    }

    /** The greeting goes out as soon as a connection opens, before any echo. */
    @Test
    void theGreetingIsSentOnOpen() throws Exception {
        start(local(EchoProtocol.builder().greeting("Hello there...\n").build()));
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("Hello there...", c.readLine());
            assertEquals("abc", c.send("abc\n").readLine());
        }
    }

    /**
     * In line mode a line "bye" ends the connection, but only after everything before it (2 MiB of lines
     * the client had not read yet) and its own echo have gone out; what follows it is not echoed.
     */
    @Test
    void inLineModeByeClosesAfterThePendingOutputIsFlushed() throws Exception {
        start(local(EchoProtocol.builder().lineMode(true).build()));
        StringBuilder lines = new StringBuilder();
        for (int i = 0; lines.length() < 2 * MiB; i++) {
            lines.append("line ").append(i).append(" ").append("x".repeat(i * 37 % 2000)).append("\r\n");
        }
        String expected = lines + "bye\n";
        pool = Executors.newFixedThreadPool(1);
        try (RawClient c = new RawClient(server.port())) {
            // Everything is sent before the client reads a byte, so "bye" arrives while the echo of the
            // lines before it still waits in the server and the socket buffers.
            pool.submit(() -> c.send(expected + "after bye\n")).get(10, TimeUnit.SECONDS);
            byte[] got = c.readToEnd();
            assertEquals(expected.length(), got.length);
            assertEquals(expected, new String(got, StandardCharsets.UTF_8));
        }
    }

    /** In line mode a line over the limit gets an error line and the connection is closed. */
    @Test
    void inLineModeATooLongLineGetsAnErrorAndAClose() throws Exception {
        start(local(EchoProtocol.builder().lineMode(true).maxLineLength(16).build()));
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("exactly sixteen!", c.send("exactly sixteen!\r\n").readLine());
            c.send("seventeen bytes!!\n");
            assertEquals("error: line longer than 16 bytes", c.readLine());
            assertTrue(c.isClosedByServer());
        }
    }

    /**
     * An unfinished last line cut by the client's half-close is a line too: within the limit it is echoed,
     * over it it gets the error line, after the echo of the lines before it, and the connection closes.
     */
    @Test
    void inLineModeAnUnfinishedLastLineAtTheHalfCloseIsEchoedOrRefused() throws Exception {
        start(local(EchoProtocol.builder().lineMode(true).maxLineLength(16).build()));
        try (RawClient c = new RawClient(server.port())) {
            c.send("first\nlast line");
            c.socket().shutdownOutput();
            assertEquals("first\nlast line", new String(c.readToEndCleanly(), StandardCharsets.UTF_8));
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send("first\nseventeen bytes!!");
            c.socket().shutdownOutput();
            assertEquals("first\nerror: line longer than 16 bytes\n",
                    new String(c.readToEndCleanly(), StandardCharsets.UTF_8));
        }
    }

    /**
     * With a probe set, the first idle timeout sends it and the second in a row closes; data from the
     * client in between starts the count again.
     */
    @Test
    void pingSendsAProbeAndClosesAtTheSecondTimeout() throws Exception {
        start(local(EchoProtocol.builder().ping("Server: ping?\n").build()).idleTimeout(Duration.ofMillis(200)));
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("Server: ping?", c.readLine());
            assertEquals("pong", c.send("pong\n").readLine());
            // The answer reset the count: the next timeout probes again instead of closing.
            assertEquals("Server: ping?", c.readLine());
            assertNull(c.readLine(), "expected the close at the second timeout in a row");
        }
    }

    /** Without a probe, the idle timeout closes at once (the framework's default). */
    @Test
    void withoutAProbeTheIdleTimeoutCloses() throws Exception {
        start(local(new EchoProtocol()).idleTimeout(Duration.ofMillis(200)));
        try (RawClient c = new RawClient(server.port())) {
            assertTrue(c.isClosedByServer());
        }
    }

    /** server.stop() lets every connection say goodbye before it closes. */
    @Test
    void onShutdownSaysGoodbyeBeforeTheClose() throws Exception {
        start(local(EchoProtocol.builder().goodbye("Echo server shutting down\nGoodbye.\n").build()));
        try (RawClient a = new RawClient(server.port()); RawClient b = new RawClient(server.port())) {
            assertEquals("ready", a.send("ready\n").readLine());
            assertEquals("ready", b.send("ready\n").readLine());
            server.stop();
            for (RawClient c : List.of(a, b)) {
                assertEquals("Echo server shutting down", c.readLine());
                assertEquals("Goodbye.", c.readLine());
                assertNull(c.readLine());
            }
            assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        }
        assertFalse(server.isRunning());
    }
}
