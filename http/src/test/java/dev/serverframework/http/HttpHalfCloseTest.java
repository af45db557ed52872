package dev.serverframework.http;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.ServerStatistics;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import dev.serverframework.http.internal.PipelineOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static dev.serverframework.http.HttpTestSupport.assertCleanEof;
import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static dev.serverframework.http.HttpTestSupport.silentFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that half-closes (sends its requests, then {@code shutdown(SHUT_WR)}) gets every response it
 * asked for, complete and in order, and then a clean end of stream, in both execution modes; one that
 * half-closes in the middle of a request gets a clean close (no reset), is counted, and the server goes on.
 */
class HttpHalfCloseTest {
    /** Connections per case: the behaviour must hold every time, not just once. */
    private static final int REPEAT = 20;

    private Server server;
    private final Queue<Held> held = new ConcurrentLinkedQueue<>();

    /** A request whose asynchronous handler waits for the test to answer it. */
    private record Held(Connection connection, CompletableFuture<Response> answer) {
    }

    @AfterEach
    void stop() throws InterruptedException {
        // Answer what a failed test left pending, so no retained request outlives the server.
        held.forEach(h -> h.answer().complete(Response.text("cleanup")));
        HttpTestSupport.stop(server);
    }

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                .get("/n/{n}", r -> Response.text("response " + r.pathParam("n")))
                .post("/echo", r -> Response.text("echo:" + r.bodyText()))
                .getAsync("/slow", r -> {
                    CompletableFuture<Response> f = new CompletableFuture<>();
                    held.add(new Held(r.connection(), f));
                    return f;
                })
                .build());
    }

    private static void shutdownOutput(RawClient c) {
        try {
            c.socket().shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void http10RequestThenHalfCloseGetsTheWholeResponseThenEof(Execution mode) {
        start(mode);
        for (int i = 0; i < REPEAT; i++) {
            try (RawClient c = new RawClient(server.port())) {
                c.send("GET / HTTP/1.0\r\n\r\n");
                shutdownOutput(c);
                RawResponse r = read(c);
                assertEquals(200, r.status(), "attempt " + i);
                assertEquals("Hello World!", r.bodyText(), "attempt " + i);
                assertEquals("close", r.header("Connection"), "HTTP/1.0 without keep-alive is told the close");
                assertCleanEof(c);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void pipelinedKeepAliveRequestsThenHalfCloseGetEveryResponseInOrderThenEof(Execution mode) {
        start(mode);
        for (int i = 0; i < REPEAT; i++) {
            try (RawClient c = new RawClient(server.port())) {
                c.send(get("/n/0") + get("/n/1") + get("/n/2"));
                shutdownOutput(c);
                for (int n = 0; n < 3; n++) {
                    RawResponse r = read(c);
                    assertEquals(200, r.status(), "attempt " + i + ", response " + n);
                    assertEquals("response " + n, r.bodyText(), "attempt " + i + ": responses out of order");
                }
                assertCleanEof(c);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aSlowResponseStillArrivesAfterTheClientHalfClosed(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/slow"));
            shutdownOutput(c);
            Await.until("the slow handler ran", () -> !held.isEmpty());
            Held h = held.peek();
            Await.until("the server saw the client's half-close", () -> inputClosedSeen(h.connection()));
            // The answer is owed: the connection must stay open however long it takes (300 ms here).
            assertTrue(silentFor(c, 300), "the server sent something or closed while a response was still owed");
            h.answer().complete(Response.text("worth the wait"));
            RawResponse r = read(c);
            assertEquals(200, r.status());
            assertEquals("worth the wait", r.bodyText());
            assertEquals("close", r.header("Connection"), "the last answer to a half-closed client says close");
            assertCleanEof(c);
        }
    }

    /** Whether the connection's HTTP state has heard of the half-close (asked on the connection's executor). */
    private static boolean inputClosedSeen(Connection connection) {
        try {
            return connection.executor().submit(() -> {
                PipelineOrder order = PipelineOrder.of(connection);
                return order.isInputClosed();
            }).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError("could not ask the connection's executor", e);
        }
    }

    /** Where a request can be cut short, and a request cut there. */
    private static final String[][] CUT_SHORT = {
        {"request line", "GET / HT"},
        {"header block", "GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n"},
        {"fixed-length body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"},
        {"chunked body", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
    };

    /** Each place a request can be cut short, in both modes. */
    static Stream<Arguments> cutShortRequests() {
        return Stream.of(Execution.values())
                .flatMap(mode -> Stream.of(CUT_SHORT).map(c -> Arguments.of(mode, c[0], c[1])));
    }

    @ParameterizedTest(name = "{0}, cut in the {1}")
    @MethodSource("cutShortRequests")
    void halfCloseInTheMiddleOfARequestClosesCleanlyIsCountedAndTheServerGoesOn(Execution mode, String where,
                                                                                String partial) {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send(partial);
            shutdownOutput(c);
            // No request was made, so nothing is answered: a clean end of stream, not a reset, not a 400.
            assertCleanEof(c);
        }
        ServerStatistics stats = server.statistics();
        Await.until("the request cut short in its " + where + " to be counted", () -> stats.closedMidMessage() == 1);
        assertEquals(0, stats.protocolErrors(), "a request cut short is not bad input");
        assertEquals(0, stats.resets());
        assertServesNormally();
    }

    @ParameterizedTest(name = "{0}, cut in the {1}")
    @MethodSource("cutShortRequests")
    void aRequestBeforeTheCutShortOneIsStillAnswered(Execution mode, String where, String partial) {
        start(mode);
        for (int i = 0; i < REPEAT; i++) {
            try (RawClient c = new RawClient(server.port())) {
                c.send(get("/n/1") + partial);
                shutdownOutput(c);
                RawResponse r = read(c);
                assertEquals("response 1", r.bodyText(), "attempt " + i);
                assertCleanEof(c);
            }
        }
        Await.until("every request cut short to be counted", () -> server.statistics().closedMidMessage() == REPEAT);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void emptyLinesBeforeTheHalfCloseAreNotARequestCutShort(Execution mode) {
        start(mode);
        // RFC 9112 2.2: a server ignores empty lines where it expects a request line (some clients send
        // CRLF after a body).
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/n/1") + "\r\n");
            shutdownOutput(c);
            assertEquals("response 1", read(c).bodyText());
            assertCleanEof(c);
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send("\r\n\r\n");
            shutdownOutput(c);
            assertCleanEof(c);
        }
        Await.until("both connections to be gone", () -> server.statistics().closed() == 2);
        assertEquals(0, server.statistics().closedMidMessage());
        assertEquals(0, server.statistics().protocolErrors());
    }

    private void assertServesNormally() {
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/"));
            RawResponse r = read(c);
            assertEquals(200, r.status());
            assertEquals("Hello World!", r.bodyText());
            assertNull(r.header("Connection"));
        }
    }
}
