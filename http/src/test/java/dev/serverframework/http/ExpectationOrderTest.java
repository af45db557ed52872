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
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

import static dev.serverframework.http.HttpTestSupport.assertCleanEof;
import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static dev.serverframework.http.HttpTestSupport.silentFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code 100 Continue} and {@code 417 Expectation Failed} keep their place among pipelined responses: behind
 * a request whose asynchronous handler has not answered yet, neither goes out until that response has. Raw
 * sockets, both execution modes.
 */
class ExpectationOrderTest {
    private static final String EXPECT_CONTINUE =
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";

    private Server server;
    private final Queue<CompletableFuture<Response>> held = new ConcurrentLinkedQueue<>();

    @AfterEach
    void stop() throws InterruptedException {
        held.forEach(f -> f.complete(Response.text("cleanup")));
        HttpTestSupport.stop(server);
    }

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder()
                .execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                .post("/echo", r -> Response.text("echo:" + r.bodyText()))
                .getAsync("/held", r -> {
                    CompletableFuture<Response> f = new CompletableFuture<>();
                    held.add(f);
                    return f;
                })
                .maxBodySize(1000)
                .build());
    }

    /** Waits for the held handler to run, checks nothing has come yet, and lets it answer. */
    private void answerHeldAfterSilence(RawClient c) throws Exception {
        Await.until("the first request's handler ran", () -> !held.isEmpty());
        assertTrue(silentFor(c, 300), "an answer overtook the response still being prepared");
        held.poll().complete(Response.text("held response"));
    }

    private static void assertHeldResponse(RawClient c) {
        RawResponse first = read(c);
        assertEquals(200, first.status(), first.statusLine());
        assertEquals("held response", first.bodyText());
    }

    private static void assertContinue(RawClient c) {
        assertEquals("HTTP/1.1 100 Continue", c.readLine());
        assertEquals("", c.readLine());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void continueWaitsForTheEarlierResponse(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/held") + EXPECT_CONTINUE);
            answerHeldAfterSilence(c);
            assertHeldResponse(c);
            assertContinue(c);
            c.send("hello");
            RawResponse echoed = read(c);
            assertEquals("echo:hello", echoed.bodyText());
            assertNull(echoed.header("Connection"));
            c.send(get("/"));
            assertEquals("Hello World!", read(c).bodyText(), "the connection goes on");
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void continueComesAtOnceWhenEverythingBeforeIsAnswered(Execution mode) {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            // A fast response before it: in order, then the 100 without waiting for anything else.
            c.send(get("/") + EXPECT_CONTINUE);
            assertEquals("Hello World!", read(c).bodyText());
            assertContinue(c);
            c.send("hello");
            assertEquals("echo:hello", read(c).bodyText());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aClientThatSendsTheBodyAnywayGetsTheLaterContinueInItsPlace(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            // The second request's body follows at once (a client may stop waiting for the 100); the third
            // asks for a 100 of its own, owed only once both earlier responses are out.
            c.send(get("/held") + EXPECT_CONTINUE + "hello" + EXPECT_CONTINUE);
            answerHeldAfterSilence(c);
            assertHeldResponse(c);
            String line = c.readLine();
            if (line.equals("HTTP/1.1 100 Continue")) {
                // The second request's 100, when its head was read before its body had arrived.
                assertEquals("", c.readLine());
                line = c.readLine();
            }
            assertEquals("HTTP/1.1 200 OK", line, "the second response");
            RawResponse second = HttpTestSupport.readAfterStatusLine(c, line);
            assertEquals("echo:hello", second.bodyText());
            assertContinue(c);
            c.send("world");
            assertEquals("echo:world", read(c).bodyText());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void noContinueBehindAResponseThatCloses(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + EXPECT_CONTINUE);
            answerHeldAfterSilence(c);
            RawResponse first = read(c);
            assertEquals("held response", first.bodyText());
            assertEquals("close", first.header("Connection"));
            assertCleanEof(c);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void expectationFailedWaitsForTheEarlierResponseAndCloses(Execution mode) throws Exception {
        start(mode);
        long before = server.statistics().service("http").protocolErrors();
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/held") + "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n"
                    + "Content-Length: 5\r\n\r\nhello");
            answerHeldAfterSilence(c);
            assertHeldResponse(c);
            assertExpectationFailed(c);
        }
        Await.until("a protocol error counted", Duration.ofSeconds(5),
                () -> server.statistics().service("http").protocolErrors() == before + 1);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void anUnknownExpectationIs417WithOrWithoutABody(Execution mode) {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\n");
            assertExpectationFailed(c);
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue, something-else\r\n\r\n");
            assertExpectationFailed(c);
        }
        try (RawClient c = new RawClient(server.port())) {
            // HTTP/1.0 expectations are ignored (RFC 9110 10.1.1).
            c.send("GET / HTTP/1.0\r\nExpect: something-else\r\n\r\n");
            assertEquals("Hello World!", read(c).bodyText());
        }
    }

    private static void assertExpectationFailed(RawClient c) {
        RawResponse r = read(c);
        assertEquals(417, r.status(), r.statusLine());
        assertEquals("close", r.header("Connection"));
        assertEquals("Expectation Failed\n", r.bodyText());
        assertCleanEof(c);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aBodyOverTheLimitBehindAHeldRequestGets413InOrderWithoutA100(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/held") + "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    + "Content-Length: 5000\r\n\r\n");
            answerHeldAfterSilence(c);
            assertHeldResponse(c);
            RawResponse r = read(c);
            assertEquals(413, r.status(), r.statusLine());
            assertEquals("close", r.header("Connection"));
            assertCleanEof(c);
        }
    }
}
