package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static dev.serverframework.http.HttpTestSupport.assertCleanEof;
import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static dev.serverframework.http.HttpTestSupport.readOrEof;
import static dev.serverframework.http.HttpTestSupport.silentFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Server#stop()} with HTTP clients connected, in both execution modes: every busy keep-alive
 * connection ends with a complete response that says {@code Connection: close}, then a clean end of
 * stream; quiet connections close at once; answers in flight at the stop (async, pipelined) still go out,
 * the last one saying close; and the server terminates within its grace period.
 */
class HttpGracefulStopTest {
    private Server server;
    private final Queue<CompletableFuture<Response>> held = new ConcurrentLinkedQueue<>();
    private final Set<String> marked = ConcurrentHashMap.newKeySet();
    private ExecutorService pool;

    @AfterEach
    void tearDown() throws InterruptedException {
        held.forEach(f -> f.complete(Response.text("cleanup")));
        if (pool != null) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "client threads did not end");
        }
        HttpTestSupport.stop(server);
    }

    private HttpProtocol routes(Execution mode) {
        return HttpProtocol.builder().execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                .get("/mark/{n}", r -> {
                    marked.add(r.pathParam("n"));
                    return Response.text("marked " + r.pathParam("n"));
                })
                .getAsync("/slow", r -> {
                    CompletableFuture<Response> f = new CompletableFuture<>();
                    held.add(f);
                    return f;
                })
                .build();
    }

    /** How a closed-loop client's connection ended. */
    private enum End {
        /** A complete response with Connection: close, then a clean end of stream: what every one should get. */
        CLOSE_RESPONSE_THEN_EOF,
        /** A clean end of stream between two responses, without being told. */
        EOF_WITHOUT_CLOSE_RESPONSE,
        /** A reset, a response cut short, a bad response, or no end within the deadline. */
        FAILED
    }

    private record Outcome(End end, int responses, String detail) {
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void everyBusyKeepAliveConnectionEndsWithAConnectionCloseResponseThenEof(Execution mode) throws Exception {
        server = HttpTestSupport.start(routes(mode)); // default drain window, linger and grace period
        int clients = 64;
        pool = Executors.newFixedThreadPool(clients);
        AtomicIntegerArray responses = new AtomicIntegerArray(clients);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<Future<Outcome>> outcomes = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            int client = i;
            outcomes.add(pool.submit(() -> closedLoopClient(responses, client, deadline)));
        }
        // Every connection accepted and busy: one still in the kernel's accept queue when the listening socket
        // closes is reset by the kernel, before the server ever saw it.
        Await.until("every client to have had a few answers", () -> {
            for (int i = 0; i < clients; i++) {
                if (responses.get(i) < 5) {
                    return false;
                }
            }
            return true;
        });

        long stopStarted = System.nanoTime();
        server.stop();
        Duration grace = server.settings().shutdownGrace();
        assertTrue(server.awaitTermination(grace), "the server did not terminate within its " + grace.toMillis()
                + " ms grace period");
        long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopStarted);

        Map<End, List<Outcome>> byEnd = new EnumMap<>(End.class);
        for (Future<Outcome> f : outcomes) {
            Outcome o = f.get(20, TimeUnit.SECONDS);
            byEnd.computeIfAbsent(o.end(), e -> new ArrayList<>()).add(o);
        }
        assertNull(byEnd.get(End.FAILED), "connections reset, cut short or not ended: " + byEnd.get(End.FAILED));
        List<Outcome> told = byEnd.getOrDefault(End.CLOSE_RESPONSE_THEN_EOF, List.of());
        assertEquals(clients, told.size(), "every connection should end with a Connection: close response "
                + "(stop took " + stopMillis + " ms); ended without one: " + byEnd.get(End.EOF_WITHOUT_CLOSE_RESPONSE));
    }

    /**
     * Sends GET / as soon as the previous answer arrived, until an answer says close (then expects a clean
     * end of stream), the connection ends, or the deadline passes.
     */
    private Outcome closedLoopClient(AtomicIntegerArray responses, int client, long deadline) {
        int answered = 0;
        try (RawClient c = new RawClient(server.port())) {
            while (System.nanoTime() - deadline < 0) {
                c.send(get("/"));
                RawResponse r = readOrEof(c);
                if (r == null) {
                    return new Outcome(End.EOF_WITHOUT_CLOSE_RESPONSE, answered, "after " + answered + " answers");
                }
                if (r.status() != 200 || !r.bodyText().equals("Hello World!")) {
                    return new Outcome(End.FAILED, answered, "unexpected answer " + r.statusLine() + " " + r.bodyText());
                }
                answered++;
                responses.incrementAndGet(client);
                if ("close".equals(r.header("Connection"))) {
                    assertCleanEof(c);
                    return new Outcome(End.CLOSE_RESPONSE_THEN_EOF, answered, "");
                }
            }
            return new Outcome(End.FAILED, answered, "no end before the deadline");
        } catch (RuntimeException | AssertionError e) {
            return new Outcome(End.FAILED, answered, e.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void connectionsQuietForTheDrainWindowAreClosedAtOnce(Execution mode) throws Exception {
        Duration window = Duration.ofMillis(300);
        server = HttpTestSupport.start(routes(mode), b -> b.drainWindow(window));
        int clients = 8;
        List<RawClient> quiet = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                RawClient c = new RawClient(server.port());
                quiet.add(c);
                c.send(get("/"));
                assertEquals(200, read(c).status());
            }
            long lastAnswer = System.nanoTime();
            long quietNanos = window.plusMillis(150).toNanos();
            Await.until("the connections to be quiet for longer than the drain window",
                    () -> System.nanoTime() - lastAnswer > quietNanos);

            // Each waits in read() for the end of stream, so its time is taken when it comes.
            pool = Executors.newFixedThreadPool(clients);
            CountDownLatch reading = new CountDownLatch(clients);
            List<Future<Long>> eofAt = new ArrayList<>();
            for (RawClient c : quiet) {
                eofAt.add(pool.submit(() -> {
                    reading.countDown();
                    assertCleanEof(c);
                    return System.nanoTime();
                }));
            }
            assertTrue(reading.await(10, TimeUnit.SECONDS));
            long stopCalled = System.nanoTime();
            server.stop();
            for (Future<Long> f : eofAt) {
                long millis = TimeUnit.NANOSECONDS.toMillis(f.get(10, TimeUnit.SECONDS) - stopCalled);
                assertTrue(millis < 100, "a quiet connection was closed " + millis + " ms after stop(), not at once");
            }
            assertTrue(server.awaitTermination(server.settings().shutdownGrace()));
        } finally {
            quiet.forEach(RawClient::close);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void anAsyncAnswerInFlightAtTheStopGoesOutWithConnectionCloseBeforeTheClose(Execution mode) throws Exception {
        server = HttpTestSupport.start(routes(mode));
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/slow"));
            Await.until("the slow handler ran", () -> !held.isEmpty());
            server.stop();
            // Past the end of the (default, 1 s) drain window: the answer is still owed, so the connection stays.
            assertTrue(silentFor(c, 1300), "the connection was closed (or answered) before its answer was ready");
            assertFalse(server.awaitTermination(Duration.ZERO), "the server ended with an answer owed");
            held.poll().complete(Response.text("finished during the stop"));
            RawResponse r = read(c);
            assertEquals(200, r.status());
            assertEquals("finished during the stop", r.bodyText());
            assertEquals("close", r.header("Connection"), "the last answer during a stop says close");
            assertCleanEof(c);
        }
        assertTrue(server.awaitTermination(server.settings().shutdownGrace()));
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aPipelinedPairInFlightAtTheStopGetsBothAnswersTheLastSayingClose(Execution mode) throws Exception {
        server = HttpTestSupport.start(routes(mode));
        try (RawClient c = new RawClient(server.port())) {
            // The first waits for the test; the second is answered at once but must wait for the first.
            c.send(get("/slow") + get("/mark/2"));
            Await.until("both requests reached their handlers", () -> !held.isEmpty() && marked.contains("2"));
            server.stop();
            assertTrue(silentFor(c, 100), "the server answered out of order or closed with answers owed");
            held.poll().complete(Response.text("first"));
            RawResponse first = read(c);
            assertEquals("first", first.bodyText());
            assertNull(first.header("Connection"), "not the last answer owed: the connection goes on for the next");
            RawResponse second = read(c);
            assertEquals("marked 2", second.bodyText());
            assertEquals("close", second.header("Connection"), "the last answer during a stop says close");
            assertCleanEof(c);
        }
        assertTrue(server.awaitTermination(server.settings().shutdownGrace()));
    }
}
