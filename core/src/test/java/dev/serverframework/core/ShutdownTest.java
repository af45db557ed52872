package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import io.netty.channel.ChannelFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A graceful stop: in-flight work finishes, connections get onShutdown then close, then onFinish. */
class ShutdownTest {
    private final List<Server> servers = new ArrayList<>();
    private final List<RawClient> clients = new ArrayList<>();
    /** What happened, in order: callbacks append here. */
    private final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopServers() throws InterruptedException {
        clients.forEach(RawClient::close);
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
    }

    /**
     * A line protocol that records its lifecycle in {@link #events}, says "bye" in onShutdown and hands
     * each line to {@code onLine}.
     */
    private Protocol recording(Protocol.Execution execution, BiConsumer<Connection, String> onLine) {
        return new LineProtocol("shutdown", onLine) {
            @Override
            public Execution execution() {
                return execution;
            }

            @Override
            public void onShutdown(Connection c) {
                events.add("shutdown " + c.id());
                c.write("bye\n");
            }

            @Override
            public void onClose(Connection c) {
                events.add("close " + c.id());
            }
        };
    }

    private static void echo(Connection c, String line) {
        c.write(line + "\n");
    }

    private Server start(ServerBuilder b) {
        Server s = b.build();
        servers.add(s);
        return s.start();
    }

    private ServerBuilder local(Protocol protocol) {
        return Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .protocol(protocol)
                .onFinish(s -> events.add("finish"));
    }

    private RawClient connect(Server server) {
        RawClient c = new RawClient(server.port());
        clients.add(c);
        return c;
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A new connection is refused: the connect fails, or the server closes it without a byte. */
    private static void assertRefused(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
            int first;
            try {
                first = s.getInputStream().read();
            } catch (SocketException reset) {
                first = -1;
            }
            assertEquals(-1, first, "a connection made while stopping must be closed at once");
        } catch (ConnectException refused) {
            // the listening socket is already closed
        } catch (SocketException resetOnWrite) {
            // closed by the server before the write
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertConnectFails(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            fail("connected to a stopped server on port " + port);
        } catch (IOException expected) {
            // nobody listens any more
        }
    }

    @Test
    void inFlightCallbackCompletesAndItsReplyArrivesBeforeTheClose() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Server server = start(local(recording(Protocol.Execution.WORKER, (c, line) -> {
            if (line.equals("slow")) {
                entered.countDown();
                await(release);
                events.add("slow done");
                c.write("done\n");
            } else {
                echo(c, line);
            }
        })).shutdownGrace(Duration.ofSeconds(5)));
        int port = server.port();
        RawClient client = connect(server);
        assertEquals("hi", client.send("hi\n").readLine());

        client.send("slow\n");
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        server.stop();
        assertFalse(server.isRunning());
        // While stopping (the callback still blocked), a new connection is refused.
        assertRefused(port);
        assertFalse(server.awaitTermination(Duration.ofMillis(50)), "the stop must wait for the blocked callback");

        release.countDown();
        assertEquals("done", client.readLine(), "the in-flight callback's reply");
        assertEquals("bye", client.readLine(), "onShutdown's goodbye");
        assertTrue(client.isClosedByServer());
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));

        long id = firstConnectionId();
        assertEquals(List.of("slow done", "shutdown " + id, "close " + id, "finish"), events);
        assertConnectFails(port);
    }

    private long firstConnectionId() {
        for (String e : events) {
            if (e.startsWith("shutdown ")) {
                return Long.parseLong(e.substring("shutdown ".length()));
            }
        }
        throw new AssertionError("no onShutdown in " + events);
    }

    @Test
    void onShutdownSaysGoodbyeToEachOpenConnectionThenItClosesAndOnFinishComesLast() throws Exception {
        Server server = start(local(recording(Protocol.Execution.WORKER, ShutdownTest::echo)).workers(2));
        List<RawClient> open = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RawClient c = connect(server);
            assertEquals("c" + i, c.send("c" + i + "\n").readLine());
            open.add(c);
        }
        server.stop();
        server.awaitTermination();
        for (RawClient c : open) {
            assertEquals("bye", c.readLine());
            assertTrue(c.isClosedByServer());
        }
        assertEquals(7, events.size(), events.toString());
        assertEquals("finish", events.get(events.size() - 1), "onFinish after everything: " + events);
        assertEquals(3, events.stream().filter(e -> e.startsWith("shutdown ")).count(), events.toString());
        assertEquals(3, events.stream().filter(e -> e.startsWith("close ")).count(), events.toString());
        for (String e : events) {
            if (e.startsWith("shutdown ")) {
                String id = e.substring("shutdown ".length());
                assertTrue(events.indexOf(e) < events.indexOf("close " + id), "onShutdown before onClose: " + events);
            }
        }
        assertEquals(0, server.count(null));
        assertConnectFails(server.port());
    }

    @Test
    void queuedWorkerTasksRunBeforeTermination() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger ranWhenFinished = new AtomicInteger(-1);
        Server server = start(Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(1)
                .protocol(recording(Protocol.Execution.WORKER, ShutdownTest::echo))
                .onFinish(s -> ranWhenFinished.set(ran.get())));
        Worker worker = server.workerGroup().next();
        worker.execute(() -> {
            entered.countDown();
            await(release);
        });
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 1000; i++) {
            worker.execute(ran::incrementAndGet);
        }
        server.stop();
        release.countDown();
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        assertEquals(1000, ran.get(), "every task queued before the stop ran");
        assertEquals(1000, ranWhenFinished.get(), "onFinish came after the queued tasks");
    }

    @Test
    void clientThatNeverReadsIsCutAfterTheGracePeriod() throws Exception {
        int chunk = 128 * 1024;
        int chunks = 64; // 8 MiB: far more than the kernel buffers of both ends hold
        byte[] payload = new byte[chunk];
        AtomicReference<Connection> flooded = new AtomicReference<>();
        AtomicReference<ChannelFuture> lastWrite = new AtomicReference<>();
        Server server = start(local(recording(Protocol.Execution.WORKER, (c, line) -> {
            ChannelFuture f = null;
            for (int i = 0; i < chunks; i++) {
                f = c.write(payload);
            }
            lastWrite.set(f);
            flooded.set(c);
        })).shutdownGrace(Duration.ofMillis(300)));

        try (Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
            slow.setSoTimeout(10_000);
            slow.getOutputStream().write("flood\n".getBytes(StandardCharsets.UTF_8));
            Await.until("megabytes to be pending for the client that does not read",
                    () -> flooded.get() != null && !flooded.get().isWritable());
            assertFalse(lastWrite.get().isDone());

            server.stop();
            assertTrue(server.awaitTermination(Duration.ofSeconds(10)), "the stop must end despite the stuck client");
            assertTrue(lastWrite.get().isDone());
            assertFalse(lastWrite.get().isSuccess(), "the unsent data was dropped when the connection was cut");
            assertTrue(events.contains("close " + flooded.get().id()), events.toString());
            assertEquals("finish", events.get(events.size() - 1));

            // The client finds the connection gone: what it can still read ends short of what was written.
            long total = 0;
            InputStream in = slow.getInputStream();
            byte[] buf = new byte[64 * 1024];
            try {
                int r;
                while ((r = in.read(buf)) >= 0) {
                    total += r;
                }
            } catch (SocketException reset) {
                // cut: fine
            }
            assertTrue(total < (long) chunk * chunks, "read " + total + " bytes");
        }
    }

    @Test
    void stopAllStopsEveryRunningServer() throws Exception {
        Server a = start(local(recording(Protocol.Execution.WORKER, ShutdownTest::echo)));
        Server b = start(local(recording(Protocol.Execution.WORKER, ShutdownTest::echo)));
        RawClient ca = connect(a);
        RawClient cb = connect(b);
        assertEquals("a", ca.send("a\n").readLine());
        assertEquals("b", cb.send("b\n").readLine());

        Server.stopAll();
        assertTrue(a.awaitTermination(Duration.ofSeconds(10)));
        assertTrue(b.awaitTermination(Duration.ofSeconds(10)));
        assertFalse(a.isRunning());
        assertFalse(b.isRunning());
        assertEquals("bye", ca.readLine());
        assertEquals("bye", cb.readLine());
        assertEquals(2, Collections.frequency(events, "finish"));
        assertConnectFails(a.port());
        assertConnectFails(b.port());
    }

    @Test
    void stopIsIdempotent() throws Exception {
        Server server = start(local(recording(Protocol.Execution.WORKER, ShutdownTest::echo)));
        RawClient c = connect(server);
        assertEquals("x", c.send("x\n").readLine());
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> stoppers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                await(go);
                server.stop();
            });
            t.start();
            stoppers.add(t);
        }
        go.countDown();
        server.stop();
        for (Thread t : stoppers) {
            t.join(10_000);
        }
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        server.stop();
        server.awaitTermination();
        assertEquals("bye", c.readLine());
        assertTrue(c.isClosedByServer());
        assertEquals(1, Collections.frequency(events, "finish"), events.toString());
        assertEquals(1, events.stream().filter(e -> e.startsWith("shutdown ")).count(), "one goodbye: " + events);
    }

    @Test
    void stopBeforeStartTerminatesAtOnce() throws Exception {
        Server server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .protocol(recording(Protocol.Execution.WORKER, ShutdownTest::echo)).build();
        server.stop();
        assertTrue(server.awaitTermination(Duration.ofSeconds(1)));
        assertFalse(server.isRunning());
    }

    @ParameterizedTest
    @EnumSource(Protocol.Execution.class)
    void stopFromInsideAProtocolCallbackDoesNotDeadlock(Protocol.Execution execution) throws Exception {
        Server server = start(local(recording(execution, (c, line) -> {
            if (line.equals("quit")) {
                c.server().stop();
                c.server().stop();
                c.write("stopping\n");
            } else {
                echo(c, line);
            }
        })));
        RawClient c = connect(server);
        assertEquals("hi", c.send("hi\n").readLine());
        c.send("quit\n");
        assertEquals("stopping", c.readLine(), "the callback that called stop() completes");
        assertEquals("bye", c.readLine());
        assertTrue(c.isClosedByServer());
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        assertEquals("finish", events.get(events.size() - 1));
    }
}
