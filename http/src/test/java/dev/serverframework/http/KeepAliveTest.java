package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.serverframework.http.HttpTestSupport.assertDate;
import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connection persistence and message framing on raw sockets: keep-alive rules of HTTP/1.1 and 1.0, exact
 * Content-Length, HEAD, pipelining (also with out-of-order async completion), Date/Server headers,
 * 100-continue, the per-connection request limit and the keep-alive timeout.
 */
class KeepAliveTest {
    private static final byte[] BIG = new byte[4 * 1024 * 1024];

    static {
        new Random(7).nextBytes(BIG);
    }

    private Server server;
    private final Queue<CompletableFuture<Response>> held = new ConcurrentLinkedQueue<>();

    @AfterEach
    void stop() throws InterruptedException {
        // Answer what a failed test left pending, so no retained request outlives the server.
        held.forEach(f -> f.complete(Response.text("cleanup")));
        HttpTestSupport.stop(server);
    }

    private static HttpProtocol.Builder routes() {
        return HttpProtocol.builder()
                .get("/", r -> Response.text("Hello World!"))
                .get("/n/{n}", r -> Response.text("response " + r.pathParam("n")))
                .post("/echo", r -> Response.text("echo:" + r.bodyText()))
                .get("/stream", r -> Response.stream(
                        new ByteArrayInputStream("streamed body".getBytes(StandardCharsets.US_ASCII)), "text/plain"))
                .get("/bigstream", r -> Response.stream(new ByteArrayInputStream(BIG), "application/octet-stream"));
    }

    private Server start(HttpProtocol http) {
        server = HttpTestSupport.start(http);
        return server;
    }

    private static String http10(String target, boolean keepAlive) {
        return "GET " + target + " HTTP/1.0\r\n" + (keepAlive ? "Connection: keep-alive\r\n" : "") + "\r\n";
    }

    @Test
    void http11ConnectionPersistsByDefault() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            for (int i = 0; i < 3; i++) {
                c.send(get("/n/" + i));
                RawResponse r = read(c);
                assertEquals(200, r.status());
                assertEquals("response " + i, r.bodyText());
                assertNull(r.header("Connection"), "HTTP/1.1 keep-alive needs no Connection header");
            }
        }
    }

    @Test
    void http11ConnectionCloseIsAnsweredWithCloseAndTheSocketCloses() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            RawResponse r = read(c);
            assertEquals("Hello World!", r.bodyText());
            assertEquals("close", r.header("Connection"));
            assertTrue(c.isClosedByServer(), "the server closes after a Connection: close response");
        }
    }

    @Test
    void http10WithoutKeepAliveIsClosedAfterTheResponse() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(http10("/", false));
            RawResponse r = read(c);
            assertEquals("Hello World!", r.bodyText());
            assertEquals("close", r.header("Connection"));
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void http10WithKeepAliveStaysOpenAndSaysSo() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(http10("/n/1", true));
            RawResponse first = read(c);
            assertEquals("response 1", first.bodyText());
            assertEquals("keep-alive", first.header("Connection"));
            c.send(http10("/n/2", true));
            RawResponse second = read(c);
            assertEquals("response 2", second.bodyText());
            assertEquals("keep-alive", second.header("Connection"));
            c.send(http10("/n/3", false));
            assertEquals("close", read(c).header("Connection"));
            assertTrue(c.isClosedByServer());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void http10StreamIsCloseDelimited(Execution mode) {
        start(routes().execution(mode).build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(http10("/stream", true));
            RawResponse r = read(c);
            assertEquals("close", r.header("Connection"), "HTTP/1.0 has no chunked framing: close delimits");
            assertNull(r.header("Transfer-Encoding"));
            assertEquals("streamed body", r.bodyText());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void streamWithConnectionCloseIsSentWholeBeforeTheClose(Execution mode) {
        start(routes().execution(mode).build());
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            RawResponse r = read(c);
            assertEquals("close", r.header("Connection"));
            assertTrue(r.chunked());
            assertEquals("streamed body", r.bodyText());
            assertTrue(c.isClosedByServer());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void largeStreamWithConnectionCloseIsSentWholeBeforeTheClose(Execution mode) {
        start(routes().execution(mode).build());
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET /bigstream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            RawResponse r = read(c);
            assertTrue(r.chunked());
            assertArrayEquals(BIG, r.body());
            assertTrue(c.isClosedByServer());
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send(http10("/bigstream", true));
            RawResponse r = read(c);
            assertEquals("close", r.header("Connection"));
            assertArrayEquals(BIG, r.body(), "close-delimited body cut short or overlong");
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void http10StreamEndsTheConnectionEvenWithRequestsPipelinedBehindIt(Execution mode) {
        start(routes().execution(mode).build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(http10("/stream", true) + http10("/", true) + http10("/n/3", true));
            RawResponse r = read(c);
            assertEquals("close", r.header("Connection"));
            // Close-delimited: anything written after it would be read as part of this body.
            assertEquals("streamed body", r.bodyText());
        }
    }

    @Test
    void contentLengthIsExactAndTheNextResponseStartsRightAfterIt() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/") + get("/n/2"));
            assertEquals("HTTP/1.1 200 OK", c.readLine());
            String contentLength = null;
            String line;
            while (!(line = c.readLine()).isEmpty()) {
                if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                    contentLength = line.substring(15).trim();
                }
            }
            assertEquals("12", contentLength);
            assertEquals("Hello World!", new String(c.readExactly(12), StandardCharsets.US_ASCII));
            // Not one byte more: the next response's status line follows immediately.
            assertEquals("HTTP/1.1 200 OK", c.readLine());
        }
    }

    @Test
    void headGetsTheGetHeadersButNoBody() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + get("/n/9"));
            RawResponse head = read(c, true);
            assertEquals(200, head.status());
            assertEquals("12", head.header("Content-Length"), "HEAD announces the GET length");
            assertEquals("text/plain; charset=utf-8", head.header("Content-Type"));
            RawResponse next = read(c);
            assertEquals("response 9", next.bodyText(), "no body bytes came between the two responses");
        }
    }

    @Test
    void headOnAStreamSendsNoBodyBytesAtAll() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n" + get("/n/1"));
            RawResponse head = read(c, true);
            assertEquals(200, head.status());
            // Not even the last-chunk "0\r\n\r\n": the next thing on the wire is the next response.
            assertEquals("HTTP/1.1 200 OK", c.readLine());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void pipelinedRequestsAreAnsweredInOrder(Execution mode) {
        start(routes().execution(mode).build());
        try (RawClient c = new RawClient(server.port())) {
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 10; i++) {
                burst.append(get("/n/" + i));
            }
            burst.append("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody");
            burst.append("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
            burst.append(get("/missing"));
            burst.append(get("/"));
            c.send(burst.toString());
            for (int i = 0; i < 10; i++) {
                assertEquals("response " + i, read(c).bodyText());
            }
            assertEquals("echo:body", read(c).bodyText());
            assertEquals("12", read(c, true).header("Content-Length"));
            assertEquals(404, read(c).status());
            assertEquals("Hello World!", read(c).bodyText());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void pipelinedAsyncResponseThatCompletesLastStillGoesFirst(Execution mode) throws Exception {
        List<String> completionOrder = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch othersDone = new CountDownLatch(2);
        Map<String, Thread> threads = new ConcurrentHashMap<>();
        start(routes().execution(mode)
                .getAsync("/slow", r -> {
                    CompletableFuture<Response> f = new CompletableFuture<>();
                    Thread t = new Thread(() -> {
                        try {
                            if (othersDone.await(5, TimeUnit.SECONDS)) {
                                completionOrder.add("slow");
                                f.complete(Response.text("slow first"));
                            } else {
                                f.complete(Response.text("timed out waiting for the others"));
                            }
                        } catch (InterruptedException e) {
                            f.completeExceptionally(e);
                        }
                    }, "test-completer");
                    threads.put("slow", t);
                    t.start();
                    return f;
                })
                .getAsync("/fast/{n}", r -> {
                    completionOrder.add("fast" + r.pathParam("n"));
                    othersDone.countDown();
                    return CompletableFuture.completedFuture(Response.text("fast " + r.pathParam("n")));
                })
                .build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/slow") + get("/fast/1") + get("/fast/2") + get("/n/3"));
            assertEquals("slow first", read(c).bodyText());
            assertEquals("fast 1", read(c).bodyText());
            assertEquals("fast 2", read(c).bodyText());
            assertEquals("response 3", read(c).bodyText());
        }
        threads.get("slow").join(5000);
        assertEquals(List.of("fast1", "fast2", "slow"), completionOrder, "the first request completed last");
    }

    @Test
    void everyResponseHasADateAndTheDefaultServerHeader() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/") + get("/missing") + "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
            for (int i = 0; i < 4; i++) {
                RawResponse r = read(c, i == 3);
                assertDate(r.header("Date"));
                assertEquals("server-framework", r.header("Server"), r.statusLine());
            }
        }
    }

    @Test
    void serverHeaderIsConfigurable() {
        start(routes().serverHeader("MyServer/1.0").build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/") + get("/missing"));
            assertEquals("MyServer/1.0", read(c).header("Server"));
            assertEquals("MyServer/1.0", read(c).header("Server"));
        }
    }

    @Test
    void nullServerHeaderSendsNone() {
        start(routes().serverHeader(null).maxBodySize(10).build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/") + get("/missing"));
            RawResponse ok = read(c);
            assertTrue(ok.headers("Server").isEmpty(), ok.headers().toString());
            assertDate(ok.header("Date"));
            assertTrue(read(c).headers("Server").isEmpty());
        }
        try (RawClient c = new RawClient(server.port())) {
            // An error the pipeline itself answers (413) follows the same rule.
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
            RawResponse tooLarge = read(c);
            assertEquals(413, tooLarge.status());
            assertTrue(tooLarge.headers("Server").isEmpty(), tooLarge.headers().toString());
        }
    }

    @Test
    void expectContinueGets100BeforeTheFinalResponse() {
        start(routes().build());
        try (RawClient c = new RawClient(server.port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            assertEquals("HTTP/1.1 100 Continue", c.readLine());
            assertEquals("", c.readLine());
            c.send("hello");
            RawResponse r = read(c);
            assertEquals(200, r.status());
            assertEquals("echo:hello", r.bodyText());
            // The connection goes on as usual.
            c.send(get("/"));
            assertEquals("Hello World!", read(c).bodyText());
        }
    }

    @Test
    void maxRequestsPerConnectionClosesAfterTheLastOne() {
        start(routes().maxRequestsPerConnection(2).build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/n/1"));
            RawResponse first = read(c);
            assertEquals("response 1", first.bodyText());
            assertNull(first.header("Connection"));
            c.send(get("/n/2"));
            RawResponse second = read(c);
            assertEquals("response 2", second.bodyText());
            assertEquals("close", second.header("Connection"));
            assertTrue(c.isClosedByServer());
        }
        try (RawClient c = new RawClient(server.port())) {
            // Pipelined past the limit: the third request is never answered.
            c.send(get("/n/1") + get("/n/2") + get("/n/3"));
            assertEquals("response 1", read(c).bodyText());
            RawResponse second = read(c);
            assertEquals("close", second.header("Connection"));
            assertEquals(0, c.readToEnd().length, "nothing after the closing response");
        }
    }

    @Test
    void keepAliveTimeoutIsAdvertisedAndIdleConnectionsAreClosed() throws Exception {
        server = HttpTestSupport.start(routes().keepAliveTimeout(Duration.ofSeconds(1)).build(),
                b -> b.idleTimeout(Duration.ofMinutes(1)));
        try (RawClient c = new RawClient(server.port())) {
            c.send(http10("/", true));
            RawResponse r = read(c);
            assertEquals("keep-alive", r.header("Connection"));
            assertEquals("timeout=1", r.header("Keep-Alive"));
            // Still usable right away.
            c.send(http10("/n/2", true));
            assertEquals("response 2", read(c).bodyText());
            // Then idle: the server (not its one-minute default) closes it; 5 s bounds the wait.
            c.socket().setSoTimeout(5000);
            assertTrue(c.isClosedByServer(), "idle keep-alive connection closed by the server");
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/"));
            RawResponse r = read(c);
            assertNull(r.header("Keep-Alive"), "HTTP/1.1 clients are not sent Keep-Alive");
            c.socket().setSoTimeout(5000);
            assertTrue(c.isClosedByServer(), "HTTP/1.1 idle connections are closed too");
        }
        Await.until("both closes counted as idle timeouts", () -> server.statistics().idleTimeouts() >= 2);
    }

    @Test
    void keepAliveTimeoutDoesNotCutARequestStillBeingAnswered() throws Exception {
        server = HttpTestSupport.start(routes().keepAliveTimeout(Duration.ofSeconds(1))
                .getAsync("/held", r -> {
                    CompletableFuture<Response> f = new CompletableFuture<>();
                    held.add(f);
                    return f;
                }).build(), b -> b.idleTimeout(Duration.ofMinutes(1)));
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/held"));
            Await.until("the handler ran", () -> !held.isEmpty());
            // Longer than the keep-alive timeout with nothing on the wire: the connection is busy, not idle.
            assertTrue(HttpTestSupport.silentFor(c, 1800), "the connection was closed while a request was pending");
            held.poll().complete(Response.text("worth the wait"));
            assertEquals("worth the wait", read(c).bodyText());
            // Idle now: closed after the timeout as usual.
            c.socket().setSoTimeout(5000);
            assertTrue(c.isClosedByServer());
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void nothingIsAnsweredAfterAConnectionCloseRequest(Execution mode) {
        CompletableFuture<Response> later = new CompletableFuture<>();
        AtomicInteger counted = new AtomicInteger();
        start(routes().execution(mode).getAsync("/later", r -> later)
                .get("/count", r -> Response.text("count " + counted.incrementAndGet())).build());
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get("/n/2"));
            RawResponse r = read(c);
            assertEquals("Hello World!", r.bodyText());
            assertEquals("close", r.header("Connection"));
            assertEquals(0, c.readToEnd().length, "the pipelined request after the close was not answered");
        }
        try (RawClient c = new RawClient(server.port())) {
            // The closing request is still being answered (async) when the next one arrives.
            c.send("GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get("/count"));
            later.complete(Response.text("later"));
            RawResponse r = read(c);
            assertEquals("later", r.bodyText());
            assertEquals("close", r.header("Connection"));
            assertEquals(0, c.readToEnd().length, "the pipelined request after the close was not answered");
        }
        // RFC 9112 9.6: no further request on that connection is processed at all.
        assertEquals(0, counted.get(), "the handler of a request after Connection: close ran");
    }
}
