package dev.serverframework.core;

import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer that shuts down its output ({@code printf ... | nc -N}) still gets every reply: the framework
 * hands the protocol everything it sent, then {@code onInputClosed}, and by default closes after the
 * pending writes.
 */
class HalfCloseTest {
    private Server server;
    /** What the protocol saw, in order. */
    private final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    /** Replies "re: LINE" to each line and records the lines and the end of input. */
    private Protocol replying(Protocol.Execution execution) {
        return new LineProtocol("half", (c, line) -> {
            events.add(line);
            c.write("re: " + line + "\n");
        }) {
            @Override
            public Execution execution() {
                return execution;
            }

            @Override
            public void onInputClosed(Connection connection) {
                events.add("input closed");
                super.onInputClosed(connection);
            }
        };
    }

    private static void shutdownOutput(RawClient client) {
        try {
            client.socket().shutdownOutput();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.Execution.class)
    void everyLineSentBeforeTheHalfCloseIsAnsweredThenTheConnectionCloses(Protocol.Execution execution) {
        server = local(replying(execution)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < 200; i++) {
                lines.append("line ").append(i).append('\n');
            }
            client.send(lines.toString());
            shutdownOutput(client);
            for (int i = 0; i < 200; i++) {
                assertEquals("re: line " + i, client.readLine());
            }
            assertNull(client.readLine(), "the server closes after the replies");
        }
        assertEquals(201, events.size(), events.toString());
        assertEquals("input closed", events.get(200), "onInputClosed comes after every line");
    }

    @Test
    void repliesHeldUpOnABusyWorkerStillArriveAfterTheHalfClose() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        server = local(new LineProtocol("slow", (c, line) -> {
            if (line.equals("slow")) {
                entered.countDown();
                await(release);
            }
            c.write("re: " + line + "\n");
        })).build().start();
        try (RawClient client = new RawClient(server.port())) {
            client.send("slow\nnext\n");
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            shutdownOutput(client);
            // The FIN has reached the server while the worker is busy: the connection waits for it.
            release.countDown();
            assertEquals("re: slow", client.readLine());
            assertEquals("re: next", client.readLine());
            assertNull(client.readLine());
        }
    }

    @Test
    void aProtocolMayKeepWritingAfterTheInputEnds() {
        server = local(new LineProtocol("summary", (c, line) -> events.add(line)) {
            @Override
            public void onInputClosed(Connection c) {
                c.write("got " + events.size() + " lines\n");
                // Later writes, from a task, still reach the half-closed peer.
                c.server().task(c.id(), t -> {
                    t.write("and goodbye\n");
                    t.close();
                }, null);
            }
        }).build().start();
        try (RawClient client = new RawClient(server.port())) {
            client.send("a\nb\nc\n");
            shutdownOutput(client);
            assertEquals("got 3 lines", client.readLine());
            assertEquals("and goodbye", client.readLine());
            assertNull(client.readLine());
        }
    }

    @Test
    void aHalfClosedConnectionIsStillClosedByTheIdleTimeoutWhenTheProtocolKeepsIt() {
        server = local(new LineProtocol("keeps", (c, line) -> c.write(line + "\n")) {
            @Override
            public void onInputClosed(Connection c) {
                // keeps the connection open
            }
        }).idleTimeout(Duration.ofMillis(300)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            client.send("x\n");
            shutdownOutput(client);
            assertEquals("x", client.readLine());
            assertNull(client.readLine(), "closed by the idle timeout");
        }
        assertEquals(1, server.statistics().idleTimeouts());
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "latch not released within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
