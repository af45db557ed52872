package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stop drains connections instead of cutting them: a quiet one closes at once, an active one gets the
 * drain window for its next message, a looping client gets the reply to every message the server read
 * and then a clean end of stream, an answer still owed is delivered, and the grace period bounds it all.
 */
class StopDrainTest {
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private static LineProtocol echo(AtomicInteger received) {
        return new LineProtocol("drain", (c, line) -> {
            received.incrementAndGet();
            c.write(line + "\n");
        });
    }

    @Test
    void connectionsQuietForLongerThanTheDrainWindowCloseAtOnce() throws Exception {
        Duration window = Duration.ofMillis(300);
        server = local(echo(new AtomicInteger())).drainWindow(window).build().start();
        List<RawClient> clients = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            RawClient c = new RawClient(server.port());
            assertEquals("hi " + i, c.send("hi " + i + "\n").readLine());
            clients.add(c);
        }
        long lastTraffic = System.nanoTime();
        Await.until("the clients to be quiet for longer than the drain window",
                () -> System.nanoTime() - lastTraffic > window.toNanos() + TimeUnit.MILLISECONDS.toNanos(100));

        long stopped = System.nanoTime();
        server.stop();
        List<CompletableFuture<Long>> ends = new ArrayList<>();
        for (RawClient c : clients) {
            ends.add(CompletableFuture.supplyAsync(() -> {
                assertNull(c.readLine(), "nothing but the end of stream");
                return System.nanoTime();
            }));
        }
        for (CompletableFuture<Long> end : ends) {
            long ms = TimeUnit.NANOSECONDS.toMillis(end.get(10, TimeUnit.SECONDS) - stopped);
            assertTrue(ms < 100, "a quiet connection closed " + ms + " ms after the stop, not at once");
        }
        clients.forEach(RawClient::close);
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
    }

    @Test
    void anActiveConnectionGetsTheDrainWindowForItsNextMessage() throws Exception {
        AtomicInteger received = new AtomicInteger();
        server = local(echo(received)).drainWindow(Duration.ofSeconds(2)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            assertEquals("one", client.send("one\n").readLine());
            server.stop();
            assertEquals("two", client.send("two\n").readLine(), "a message within the window is answered");
            assertNull(client.readLine(), "then the connection ends cleanly, at the end of the window");
        }
        assertEquals(2, received.get());
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
    }

    /**
     * Clients in a closed loop (the next line as soon as the reply arrives), as redis-benchmark drives a
     * server: every line the server read got its reply, and each connection ended with a clean end of
     * stream (at most one line outstanding, discarded by the lingering close), never a reset.
     */
    @Test
    void loopingClientsGetEveryReplyAndThenACleanEnd() throws Exception {
        AtomicInteger received = new AtomicInteger();
        server = local(echo(received)).drainWindow(Duration.ofMillis(300)).build().start();
        int loops = 16;
        AtomicLong replies = new AtomicLong();
        AtomicInteger resets = new AtomicInteger();
        AtomicBoolean go = new AtomicBoolean(true);
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int i = 0; i < loops; i++) {
            int n = i;
            RawClient client = new RawClient(server.port());
            clients.add(CompletableFuture.runAsync(() -> {
                try (client) {
                    for (int k = 0; go.get(); k++) {
                        String line = n + "-" + k;
                        try {
                            client.send(line + "\n");
                        } catch (UncheckedIOException e) {
                            // The server's FIN arrived and the client's last line was discarded: a clean end.
                            return;
                        }
                        String reply = client.readLine();
                        if (reply == null) {
                            return;
                        }
                        assertEquals(line, reply);
                        replies.incrementAndGet();
                    }
                } catch (UncheckedIOException e) {
                    if (e.getCause() instanceof SocketException) {
                        resets.incrementAndGet();
                    } else {
                        throw e;
                    }
                }
            }));
        }
        Await.until("the clients to be busy", () -> replies.get() > 2000);
        server.stop();
        try {
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        } finally {
            go.set(false);
        }
        assertEquals(0, resets.get(), "no connection may end with a reset");
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
        assertEquals(received.get(), replies.get(), "every line the server read was answered");
    }

    @Test
    void anAnswerStillOwedAtTheStopIsDeliveredBeforeTheClose() throws Exception {
        AtomicBoolean owed = new AtomicBoolean();
        server = local(new LineProtocol("async", (c, line) -> {
            owed.set(true);
            c.server().runAfter(Duration.ofMillis(500), () -> c.server().task(c.id(), t -> {
                t.write("late " + line + "\n");
                owed.set(false);
                // The contract of isAnswering: once the owed answer is out, a stopping server's connection closes.
                if (!t.server().isRunning()) {
                    t.close();
                }
            }, null));
        }) {
            @Override
            public boolean isAnswering(Connection connection) {
                return owed.get();
            }
        }).drainWindow(Duration.ofMillis(100)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            client.send("answer\n");
            Await.until("the request to be taken", owed::get);
            server.stop();
            assertEquals("late answer", client.readLine());
            assertNull(client.readLine());
        }
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
    }

    @Test
    void theGracePeriodBoundsAProtocolThatNeverFinishesAnswering() throws Exception {
        server = local(new LineProtocol("forever", (c, line) -> { }) {
            @Override
            public boolean isAnswering(Connection connection) {
                return true;
            }
        }).drainWindow(Duration.ofMillis(50)).shutdownGrace(Duration.ofMillis(500)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            client.send("never answered\n");
            Await.until("the connection to be open", () -> server.count(null) == 1);
            server.stop();
            assertFalse(server.awaitTermination(Duration.ofMillis(200)), "the stop waits for the owed answer");
            assertTrue(server.awaitTermination(Duration.ofSeconds(10)), "until the grace period ends");
            assertTrue(client.isClosedByServer());
        }
    }

    @Test
    void onShutdownCanSayGoodbyeAndTheConnectionStillClosesCleanly() throws Exception {
        server = local(new LineProtocol("bye", (c, line) -> c.write(line + "\n")) {
            @Override
            public void onShutdown(Connection c) {
                c.write("server stopping\n");
            }
        }).build().start();
        try (RawClient client = new RawClient(server.port())) {
            assertEquals("x", client.send("x\n").readLine());
            server.stop();
            assertEquals("server stopping", client.readLine());
            try {
                assertNull(client.readLine());
            } catch (UncheckedIOException e) {
                throw new AssertionError("the connection was reset, not closed", e);
            }
        }
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
    }
}
