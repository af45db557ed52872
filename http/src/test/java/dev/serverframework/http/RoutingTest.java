package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.serverframework.http.HttpTestSupport.assertDate;
import static dev.serverframework.http.HttpTestSupport.request;
import static dev.serverframework.http.HttpTestSupport.send;
import static dev.serverframework.http.HttpTestSupport.sendBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Routing and responses, through the JDK client (and raw sockets where framing matters), in both execution
 * modes: methods, path and query parameters, headers, bodies, every response kind with exact bodies, async
 * handlers, 404/405/OPTIONS, and handler failures answered with a generic 500.
 */
class RoutingTest {
    private static final byte[] STREAM_BODY = new byte[200_000];
    private static final byte[] FILE_BODY = new byte[70_000];
    private static HttpClient client;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private Server server;
    private final ConcurrentLinkedQueue<CompletableFuture<Response>> pending = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void setUp() {
        new Random(1).nextBytes(STREAM_BODY);
        new Random(2).nextBytes(FILE_BODY);
        client = HttpTestSupport.newClient();
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void tearDown() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
    }

    @AfterEach
    void stop() throws InterruptedException {
        // A test that failed half-way may leave a future nobody completes: answer it so nothing hangs.
        pending.forEach(f -> f.complete(Response.text("cleanup")));
        HttpTestSupport.stop(server);
    }

    private Server start(Execution mode) throws Exception {
        Path file = dir.resolve("data.bin");
        Files.write(file, FILE_BODY);
        HttpProtocol http = HttpProtocol.builder().execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                .get("/m", r -> Response.text("GET"))
                .head("/m", r -> Response.text("HEAD-BODY-NEVER-SENT").header("X-Head", "yes"))
                .post("/m", r -> Response.text("POST " + r.bodyText()))
                .put("/m", r -> Response.text("PUT " + r.bodyText()))
                .delete("/m", r -> Response.text("DELETE"))
                .patch("/m", r -> Response.text("PATCH " + r.bodyText()))
                .options("/m", r -> Response.status(200).header("X-Options", "custom"))
                .route(HttpMethod.valueOf("PROPFIND"), "/m", r -> Response.text("PROPFIND"))
                .get("/only-get", r -> Response.text("only GET"))
                .get("/users/{id}/files/{name}", r -> Response.text(
                        r.pathParam("id") + "|" + r.pathParam("name") + "|" + r.routeTemplate() + "|"
                                + r.pathParams().size()))
                .get("/query", r -> Response.text(r.queryParam("a") + "|" + r.queryParams().get("a") + "|"
                        + r.queryParam("b") + "|" + r.queryParam("c") + "|" + r.queryParam("missing") + "|"
                        + r.path()))
                .get("/headers", r -> Response.text(r.header("X-Test") + "|" + r.headers().getAll("X-Multi"))
                        .header("X-Reply", "pong"))
                .post("/echo/text", r -> Response.text(r.bodyText()))
                .post("/echo/bytes", r -> Response.bytes(r.body(), "application/octet-stream"))
                .get("/created", r -> Response.status(201).header("Location", "/things/1"))
                .get("/teapot", r -> Response.text("short and stout").withStatus(418))
                .get("/bytes", r -> Response.bytes(new byte[] {0, 1, 2, (byte) 255}, "application/x-test"))
                .get("/json", r -> Response.json("{\"ok\":true}"))
                .get("/html", r -> Response.html("<p>hi</p>"))
                .get("/bytebuf", r -> {
                    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer();
                    buf.writeCharSequence("pooled direct buffer", StandardCharsets.US_ASCII);
                    return Response.buffer(buf, "text/plain");
                })
                .get("/file", r -> Response.file(file))
                .get("/missing-file", r -> Response.file(dir.resolve("does-not-exist.txt")))
                .get("/stream", r -> Response.stream(new ByteArrayInputStream(STREAM_BODY), "application/x-stream"))
                .get("/thread", r -> Response.text(Thread.currentThread().getName()))
                .get("/where", r -> Response.text(r.path() + "|" + r.queryParam("x")))
                .getAsync("/async/now", r -> CompletableFuture.completedFuture(Response.text("async now")))
                .getAsync("/async/pool", r -> CompletableFuture.supplyAsync(
                        () -> Response.text("from " + Thread.currentThread().getName()), pool))
                .getAsync("/async/later", r -> {
                    CompletableFuture<Response> f = new CompletableFuture<>();
                    pending.add(f);
                    return f;
                })
                .postAsync("/async/echo", r -> CompletableFuture.supplyAsync(
                        () -> Response.text("async " + r.bodyText()), pool))
                .getAsync("/async/fail", r -> CompletableFuture.failedFuture(
                        new IllegalStateException("async-secret-detail")))
                .getAsync("/async/throw", r -> {
                    throw new IllegalStateException("sync-throw-secret-detail");
                })
                .getAsync("/async/null", r -> CompletableFuture.completedFuture(null))
                .get("/boom", r -> {
                    throw new IllegalStateException("boom-secret-detail");
                })
                .get("/checked", r -> {
                    throw new IOException("checked-secret-detail");
                })
                .get("/null", r -> null)
                .build();
        server = HttpTestSupport.start(http);
        return server;
    }

    private HttpRequest.Builder req(String path) {
        return request(server, path);
    }

    // ---- methods ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void helloWorldIsExactlyTwelveBytesOfPlainText(Execution mode) throws Exception {
        start(mode);
        HttpResponse<String> r = send(client, req("/").build());
        assertEquals(200, r.statusCode());
        assertEquals("Hello World!", r.body());
        assertEquals("12", r.headers().firstValue("Content-Length").orElseThrow());
        assertEquals("text/plain; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
        assertDate(r.headers().firstValue("Date").orElse(null));
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void eachMethodReachesItsOwnHandler(Execution mode) throws Exception {
        start(mode);
        assertEquals("GET", send(client, req("/m").GET().build()).body());
        assertEquals("POST one", send(client, req("/m").POST(BodyPublishers.ofString("one")).build()).body());
        assertEquals("PUT two", send(client, req("/m").PUT(BodyPublishers.ofString("two")).build()).body());
        assertEquals("DELETE", send(client, req("/m").DELETE().build()).body());
        assertEquals("PATCH three",
                send(client, req("/m").method("PATCH", BodyPublishers.ofString("three")).build()).body());
        assertEquals("PROPFIND", send(client, req("/m").method("PROPFIND", BodyPublishers.noBody()).build()).body());

        HttpResponse<String> options = send(client, req("/m").method("OPTIONS", BodyPublishers.noBody()).build());
        assertEquals(200, options.statusCode(), "an explicit OPTIONS route wins over the automatic answer");
        assertEquals("custom", options.headers().firstValue("X-Options").orElseThrow());
        assertEquals("0", options.headers().firstValue("Content-Length").orElseThrow());

        HttpResponse<String> head = send(client, req("/m").method("HEAD", BodyPublishers.noBody()).build());
        assertEquals(200, head.statusCode());
        assertEquals("yes", head.headers().firstValue("X-Head").orElseThrow(), "the HEAD route ran, not GET's");
        assertEquals(String.valueOf("HEAD-BODY-NEVER-SENT".length()),
                head.headers().firstValue("Content-Length").orElseThrow());
        assertEquals("", head.body());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void headFallsBackToTheGetRouteWithoutBody(Execution mode) throws Exception {
        start(mode);
        HttpResponse<String> head = send(client, req("/only-get").method("HEAD", BodyPublishers.noBody()).build());
        assertEquals(200, head.statusCode());
        assertEquals("8", head.headers().firstValue("Content-Length").orElseThrow());
        assertEquals("", head.body());
    }

    // ---- request parts ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void pathParametersArePercentDecodedPerSegment(Execution mode) throws Exception {
        start(mode);
        assertEquals("42|a b/c+d|/users/{id}/files/{name}|2",
                send(client, req("/users/42/files/a%20b%2Fc+d").build()).body());
        assertEquals("\u00e9t\u00e9|x|/users/{id}/files/{name}|2",
                send(client, req("/users/%C3%A9t%C3%A9/files/x").build()).body());
        assertEquals(404, send(client, req("/users/42/files").build()).statusCode(), "a segment short");
        assertEquals(404, send(client, req("/users/42/files/x/y").build()).statusCode(), "a segment too many");
        assertEquals(404, send(client, req("/users//files/x").build()).statusCode(), "an empty parameter");
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void queryParametersAreDecodedAndKeepEveryValue(Execution mode) throws Exception {
        start(mode);
        assertEquals("1|[1, 2]|x y|a b|null|/query",
                send(client, req("/query?a=1&b=x%20y&a=2&c=a+b").build()).body());
        assertEquals("null|null|null|null|null|/query", send(client, req("/query").build()).body());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void requestHeadersReachTheHandlerAndResponseHeadersTheClient(Execution mode) throws Exception {
        start(mode);
        HttpResponse<String> r = send(client, req("/headers").header("X-Test", "hello")
                .header("X-Multi", "one").header("X-Multi", "two").build());
        assertEquals("hello|[one, two]", r.body());
        assertEquals("pong", r.headers().firstValue("X-Reply").orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void requestBodiesArriveExactlyAsTextAndAsBytes(Execution mode) throws Exception {
        start(mode);
        String text = "h\u00e9llo \u2713 w\u00f6rld";
        assertEquals(text, send(client, req("/echo/text").POST(BodyPublishers.ofString(text)).build()).body());

        byte[] bytes = new byte[300_000];
        new Random(3).nextBytes(bytes);
        HttpResponse<byte[]> r = sendBytes(client, req("/echo/bytes").POST(BodyPublishers.ofByteArray(bytes)).build());
        assertEquals(200, r.statusCode());
        assertArrayEquals(bytes, r.body());

        HttpResponse<byte[]> empty = sendBytes(client, req("/echo/bytes").POST(BodyPublishers.noBody()).build());
        assertEquals(0, empty.body().length);
        assertEquals("0", empty.headers().firstValue("Content-Length").orElseThrow());
    }

    // ---- response kinds ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void statusHeadersAndEveryBodyKindArriveExactly(Execution mode) throws Exception {
        start(mode);
        HttpResponse<String> created = send(client, req("/created").build());
        assertEquals(201, created.statusCode());
        assertEquals("/things/1", created.headers().firstValue("Location").orElseThrow());
        assertEquals("0", created.headers().firstValue("Content-Length").orElseThrow());
        assertEquals("", created.body());

        HttpResponse<String> teapot = send(client, req("/teapot").build());
        assertEquals(418, teapot.statusCode());
        assertEquals("short and stout", teapot.body());

        HttpResponse<byte[]> bytes = sendBytes(client, req("/bytes").build());
        assertArrayEquals(new byte[] {0, 1, 2, (byte) 255}, bytes.body());
        assertEquals("application/x-test", bytes.headers().firstValue("Content-Type").orElseThrow());

        HttpResponse<String> json = send(client, req("/json").build());
        assertEquals("{\"ok\":true}", json.body());
        assertEquals("application/json", json.headers().firstValue("Content-Type").orElseThrow());

        HttpResponse<String> html = send(client, req("/html").build());
        assertEquals("<p>hi</p>", html.body());
        assertEquals("text/html; charset=utf-8", html.headers().firstValue("Content-Type").orElseThrow());

        HttpResponse<String> buf = send(client, req("/bytebuf").build());
        assertEquals("pooled direct buffer", buf.body());
        assertEquals("20", buf.headers().firstValue("Content-Length").orElseThrow());

        HttpResponse<byte[]> file = sendBytes(client, req("/file").build());
        assertArrayEquals(FILE_BODY, file.body());
        assertEquals(String.valueOf(FILE_BODY.length), file.headers().firstValue("Content-Length").orElseThrow());
        assertEquals("application/octet-stream", file.headers().firstValue("Content-Type").orElseThrow());

        HttpResponse<byte[]> stream = sendBytes(client, req("/stream").build());
        assertArrayEquals(STREAM_BODY, stream.body());
        assertEquals("application/x-stream", stream.headers().firstValue("Content-Type").orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void streamIsSentChunkedAndTheConnectionStaysUsable(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send(HttpTestSupport.get("/stream") + HttpTestSupport.get("/"));
            HttpTestSupport.RawResponse stream = HttpTestSupport.read(c);
            assertTrue(stream.chunked(), "Transfer-Encoding: chunked expected: " + stream.headers());
            assertEquals(null, stream.header("Content-Length"));
            assertArrayEquals(STREAM_BODY, stream.body());
            HttpTestSupport.RawResponse next = HttpTestSupport.read(c);
            assertEquals("Hello World!", next.bodyText());
        }
    }

    // ---- async ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void asyncHandlersAnswerWhenTheirStageCompletes(Execution mode) throws Exception {
        start(mode);
        assertEquals("async now", send(client, req("/async/now").build()).body());
        String fromPool = send(client, req("/async/pool").build()).body();
        assertTrue(fromPool.startsWith("from pool-"), fromPool);
        assertEquals("async posted body",
                send(client, req("/async/echo").POST(BodyPublishers.ofString("posted body")).build()).body(),
                "the request body stays readable until the async handler has used it");
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void asyncHandlerCompletedLaterByAnotherThread(Execution mode) throws Exception {
        start(mode);
        CompletableFuture<HttpResponse<String>> response =
                client.sendAsync(req("/async/later").build(), HttpResponse.BodyHandlers.ofString());
        Await.until("the async handler ran", () -> !pending.isEmpty());
        assertFalse(response.isDone(), "no response before the stage completes");
        // Completed by this (test) thread, long after the handler returned.
        pending.poll().complete(Response.text("completed by " + Thread.currentThread().getName()));
        HttpResponse<String> r = response.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertEquals("completed by " + Thread.currentThread().getName(), r.body());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void asyncFailuresAnswerAGeneric500(Execution mode) throws Exception {
        start(mode);
        for (String path : List.of("/async/fail", "/async/throw", "/async/null")) {
            HttpResponse<String> r = send(client, req(path).build());
            assertEquals(500, r.statusCode(), path);
            assertGeneric500Body(r.body());
        }
        assertEquals("Hello World!", send(client, req("/").build()).body(), "the server keeps serving");
    }

    // ---- unrouted ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void unknownPathIs404(Execution mode) throws Exception {
        start(mode);
        HttpResponse<String> r = send(client, req("/no/such/path").build());
        assertEquals(404, r.statusCode());
        assertEquals("Not Found\n", r.body());
        assertDate(r.headers().firstValue("Date").orElse(null));
        assertEquals(404, send(client, req("/no/such/path").POST(BodyPublishers.ofString("x")).build()).statusCode());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void wrongMethodOnAKnownPathIs405WithAllow(Execution mode) throws Exception {
        start(mode);
        HttpResponse<String> r = send(client, req("/only-get").POST(BodyPublishers.ofString("x")).build());
        assertEquals(405, r.statusCode());
        assertEquals("GET, HEAD, OPTIONS", r.headers().firstValue("Allow").orElseThrow());
        assertEquals("Method Not Allowed\n", r.body());

        HttpResponse<String> templated = send(client, req("/users/1/files/2").DELETE().build());
        assertEquals(405, templated.statusCode());
        assertEquals("GET, HEAD, OPTIONS", templated.headers().firstValue("Allow").orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void optionsOnAKnownPathIs204WithAllow(Execution mode) throws Exception {
        start(mode);
        HttpResponse<String> r = send(client, req("/only-get").method("OPTIONS", BodyPublishers.noBody()).build());
        assertEquals(204, r.statusCode());
        assertEquals("GET, HEAD, OPTIONS", r.headers().firstValue("Allow").orElseThrow());
        assertEquals("", r.body());
        assertEquals(404, send(client, req("/nowhere").method("OPTIONS", BodyPublishers.noBody()).build())
                .statusCode());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void optionsAsteriskIsAnsweredAndKeepsTheConnection(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n" + HttpTestSupport.get("/"));
            HttpTestSupport.RawResponse r = HttpTestSupport.read(c);
            assertEquals(204, r.status(), r.statusLine());
            assertEquals(null, r.header("Connection"));
            assertEquals("Hello World!", HttpTestSupport.read(c).bodyText());
            // Any other method with the asterisk-form, or a target that is no path at all, is bad input.
            c.send("GET * HTTP/1.1\r\nHost: x\r\n\r\n");
            HttpTestSupport.RawResponse bad = HttpTestSupport.read(c);
            assertEquals(400, bad.status());
            assertEquals("close", bad.header("Connection"));
            assertTrue(c.isClosedByServer());
        }
    }

    // ---- failures ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void throwingHandlerGetsAGeneric500AndTheServerKeepsServing(Execution mode) throws Exception {
        start(mode);
        for (String path : List.of("/boom", "/checked", "/null")) {
            HttpResponse<String> r = send(client, req(path).build());
            assertEquals(500, r.statusCode(), path);
            assertGeneric500Body(r.body());
        }
        // Same connection too: the 500 does not break keep-alive.
        try (RawClient c = new RawClient(server.port())) {
            c.send(HttpTestSupport.get("/boom") + HttpTestSupport.get("/"));
            HttpTestSupport.RawResponse failed = HttpTestSupport.read(c);
            assertEquals(500, failed.status());
            assertGeneric500Body(failed.bodyText());
            assertEquals(null, failed.header("Connection"));
            assertEquals("Hello World!", HttpTestSupport.read(c).bodyText());
        }
        assertEquals("Hello World!", send(client, req("/").build()).body());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aResponseFileThatCannotBeReadIsAGeneric500OnAUsableConnection(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send(HttpTestSupport.get("/missing-file") + HttpTestSupport.get("/"));
            HttpTestSupport.RawResponse failed = HttpTestSupport.read(c);
            assertEquals(500, failed.status());
            assertGeneric500Body(failed.bodyText());
            assertEquals("Hello World!", HttpTestSupport.read(c).bodyText());
        }
    }

    private static void assertGeneric500Body(String body) {
        assertEquals("Internal Server Error\n", body);
        assertFalse(body.contains("secret"), body);
        assertFalse(body.contains("Exception"), body);
        assertFalse(body.contains("\tat "), body);
    }

    // ---- execution modes ----

    @ParameterizedTest
    @EnumSource(Execution.class)
    void handlersRunWhereTheExecutionModeSays(Execution mode) throws Exception {
        start(mode);
        String thread = send(client, req("/thread").build()).body();
        if (mode == Execution.WORKER) {
            assertTrue(thread.startsWith("sf-worker"), thread);
        } else {
            assertTrue(thread.startsWith("sf-io"), thread);
        }
        assertNotEquals("", thread);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void absoluteFormRequestTargetIsRouted(Execution mode) throws Exception {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET http://localhost/users/7/files/f%20g?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            HttpTestSupport.RawResponse r = HttpTestSupport.read(c);
            assertEquals(200, r.status());
            assertEquals("7|f g|/users/{id}/files/{name}|2", r.bodyText());
            c.send("GET http://localhost:80/where?x=a%20b HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertEquals("/where|a b", HttpTestSupport.read(c).bodyText(), "path() and queryParam() too");
        }
    }
}
