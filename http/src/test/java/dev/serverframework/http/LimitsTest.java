package dev.serverframework.http;

import dev.serverframework.core.Protocol;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static dev.serverframework.http.HttpTestSupport.silentFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Limits and bad input on raw sockets. Each case gets its exact status with {@code Connection: close}, the
 * socket closed by the server, and a new client served normally afterwards; malformed requests count as
 * protocol errors of the "http" service.
 */
class LimitsTest {
    private static final int MAX_BODY = 1000;

    private Server server;
    private final Queue<CompletableFuture<Response>> held = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void start() {
        server = HttpTestSupport.start(routes().build());
    }

    private HttpProtocol.Builder routes() {
        return HttpProtocol.builder()
                .get("/", r -> Response.text("Hello World!"))
                .post("/echo", r -> Response.text("echo:" + r.bodyText()))
                .getAsync("/held", r -> {
                    CompletableFuture<Response> f = new CompletableFuture<>();
                    held.add(f);
                    return f;
                })
                .maxInitialLineLength(1024)
                .maxHeaderSize(2048)
                .maxBodySize(MAX_BODY)
                .headerTimeout(Duration.ofMillis(500));
    }

    @AfterEach
    void stop() throws InterruptedException {
        held.forEach(f -> f.complete(Response.text("cleanup")));
        HttpTestSupport.stop(server);
    }

    private long protocolErrors() {
        return server.statistics().service("http").protocolErrors();
    }

    /** Sends {@code request} on a new connection and checks status, Connection: close and the close itself. */
    private RawResponse assertRejected(byte[] request, int status) {
        RawResponse r;
        try (RawClient c = new RawClient(server.port())) {
            c.send(request);
            r = read(c);
            assertEquals(status, r.status(), r.statusLine());
            assertEquals("close", r.header("Connection"), r.statusLine());
            assertEquals(r.header("Content-Length"), String.valueOf(r.body().length));
            assertTrue(c.isClosedByServer(), "the server closes after " + r.statusLine());
        }
        assertServesNormally();
        return r;
    }

    private RawResponse assertRejected(String request, int status) {
        return assertRejected(request.getBytes(StandardCharsets.ISO_8859_1), status);
    }

    private void assertServesNormally() {
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/"));
            RawResponse ok = read(c);
            assertEquals(200, ok.status());
            assertEquals("Hello World!", ok.bodyText());
        }
    }

    /** The case is a malformed request: the protocol-error counter goes up by one. */
    private void assertCountedAsProtocolError(long before) {
        Await.until("protocol error counted", Duration.ofSeconds(5), () -> protocolErrors() == before + 1);
    }

    @Test
    void requestLineTooLongIs414() {
        long before = protocolErrors();
        RawResponse r = assertRejected(get("/" + "a".repeat(2000)), 414);
        assertEquals("Request-URI Too Long\n", r.bodyText());
        assertCountedAsProtocolError(before);
    }

    @Test
    void headersTooLargeAre431() {
        long before = protocolErrors();
        StringBuilder req = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 10; i++) {
            req.append("X-Filler-").append(i).append(": ").append("v".repeat(300)).append("\r\n");
        }
        req.append("\r\n");
        assertRejected(req.toString(), 431);
        assertCountedAsProtocolError(before);
    }

    @Test
    void announcedBodyOverTheLimitIs413WithoutReadingIt() {
        RawResponse r = assertRejected("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + (MAX_BODY + 1)
                + "\r\n\r\n", 413);
        assertEquals("Request Entity Too Large\n", r.bodyText());
        // Exactly at the limit is fine.
        try (RawClient c = new RawClient(server.port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + MAX_BODY + "\r\n\r\n" + "b".repeat(MAX_BODY));
            RawResponse ok = read(c);
            assertEquals(200, ok.status());
            assertEquals("echo:" + "b".repeat(MAX_BODY), ok.bodyText());
        }
    }

    @Test
    void chunkedBodyGrowingPastTheLimitIs413() {
        StringBuilder req = new StringBuilder("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 3; i++) {
            req.append(Integer.toHexString(400)).append("\r\n").append("c".repeat(400)).append("\r\n");
        }
        req.append("0\r\n\r\n");
        assertRejected(req.toString(), 413);
        // A chunked body under the limit is aggregated and answered.
        try (RawClient c = new RawClient(server.port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            assertEquals("echo:hello world", read(c).bodyText());
        }
    }

    @Test
    void garbageRequestLineIs400() {
        long before = protocolErrors();
        assertRejected("THIS IS NOT HTTP AT ALL\r\n\r\n", 400);
        assertCountedAsProtocolError(before);
        long before2 = protocolErrors();
        assertRejected(new byte[] {'G', 'E', 'T', ' ', 0x01, 0x7f, (byte) 0xff, ' ', 'H', '\r', '\n', '\r', '\n'}, 400);
        assertCountedAsProtocolError(before2);
    }

    @Test
    void contentLengthWithChunkedIs400() {
        long before = protocolErrors();
        assertRejected("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n", 400);
        assertCountedAsProtocolError(before);
    }

    @Test
    void twoDifferentContentLengthsAre400() {
        long before = protocolErrors();
        assertRejected("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                400);
        assertCountedAsProtocolError(before);
    }

    @Test
    void unsupportedTransferEncodingIs501() {
        long before = protocolErrors();
        assertRejected("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
        assertCountedAsProtocolError(before);
    }

    @Test
    void expectContinueWithABodyOverTheLimitIs413() {
        RawResponse r = assertRejected("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
                + (MAX_BODY * 10) + "\r\n\r\n", 413);
        assertFalse(r.statusLine().contains("100"), "no 100 Continue for a body that would be refused");
    }

    @Test
    void slowlorisGets408AndIsClosed() throws Exception {
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            // Dribble one byte whenever nothing has arrived for 100 ms; the header timeout (500 ms) is not
            // postponed by that. Bounded: 50 rounds are far more than the timeout needs.
            c.socket().setSoTimeout(100);
            boolean answered = false;
            for (int i = 0; i < 50 && !answered; i++) {
                try {
                    int b = c.socket().getInputStream().read();
                    assertTrue(b >= 0, "closed without a 408");
                    assertEquals('H', b);
                    answered = true;
                } catch (SocketTimeoutException e) {
                    try {
                        c.send("a");
                    } catch (RuntimeException sendFailed) {
                        // The server may close between our read and this write; the read will tell.
                    }
                }
            }
            assertTrue(answered, "no answer while dribbling");
            c.socket().setSoTimeout(10_000);
            String statusLine = "H" + c.readLine();
            assertEquals("HTTP/1.1 408 Request Timeout", statusLine);
            String connection = null;
            int contentLength = -1;
            String line;
            while ((line = c.readLine()) != null && !line.isEmpty()) {
                String lower = line.toLowerCase(Locale.ROOT);
                if (lower.startsWith("connection:")) {
                    connection = line.substring(11).trim();
                } else if (lower.startsWith("content-length:")) {
                    contentLength = Integer.parseInt(line.substring(15).trim());
                }
            }
            assertEquals("close", connection);
            assertEquals("Request Timeout\n", new String(c.readExactly(contentLength), StandardCharsets.US_ASCII));
            assertTrue(readsToEndIgnoringReset(c), "the server closes after the 408");
        }
        assertServesNormally();
    }

    /** True when the stream ends right after the 408 (a reset after a late dribble byte counts as ended). */
    private static boolean readsToEndIgnoringReset(RawClient c) {
        try {
            return c.socket().getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void idleClientsAreNotAnswered408() throws Exception {
        try (RawClient silent = new RawClient(server.port()); RawClient done = new RawClient(server.port())) {
            done.send(get("/"));
            assertEquals("Hello World!", read(done).bodyText());
            // A client that sends nothing, and one idle between requests: no request head is pending, so
            // no 408 comes within well over the 500 ms header timeout.
            assertTrue(silentFor(silent, 1200), "a client that sent nothing got an answer");
            assertTrue(silentFor(done, 100), "an idle keep-alive client got an answer");
            // Both connections are still usable.
            silent.send(get("/"));
            assertEquals("Hello World!", read(silent).bodyText());
            done.send(get("/"));
            assertEquals("Hello World!", read(done).bodyText());
        }
    }

    @Test
    void anIdleClientAfterARequestWithABodyIsNotAnswered408() throws Exception {
        try (RawClient c = new RawClient(server.port())) {
            // A body ends in the same read as the last bytes the client sent, with nothing after it: no request
            // head has started, whatever the body's last bytes were.
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
            assertEquals("echo:hello", read(c).bodyText());
            assertTrue(silentFor(c, 1200), "an idle client got an answer after a body with Content-Length");
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            assertEquals("echo:hello", read(c).bodyText());
            assertTrue(silentFor(c, 1200), "an idle client got an answer after a chunked body");
            // Still usable.
            c.send(get("/"));
            assertEquals("Hello World!", read(c).bodyText());
        }
    }

    @Test
    void aRequestHeadSentInPiecesInTimeIsServed() {
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HT");
            c.send("TP/1.1\r\nHo");
            c.send("st: x\r\n\r\n");
            assertEquals("Hello World!", read(c).bodyText());
        }
    }

    @Test
    void a413ForAPipelinedRequestWaitsForTheEarlierResponse() {
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/held") + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + (MAX_BODY * 5)
                    + "\r\n\r\n");
            Await.until("the first request's handler ran", () -> !held.isEmpty());
            held.poll().complete(Response.text("held response"));
            RawResponse first = read(c);
            assertEquals(200, first.status(), "responses keep request order, errors included");
            assertEquals("held response", first.bodyText());
            RawResponse second = read(c);
            assertEquals(413, second.status());
            assertEquals("close", second.header("Connection"));
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void a408ForAPipelinedHalfRequestWaitsForTheEarlierResponse() throws Exception {
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/held") + "GET / HTTP/1.1\r\nHo");
            Await.until("the first request's handler ran", () -> !held.isEmpty());
            // Well past the 500 ms header timeout, and still nothing may arrive before the first response.
            assertTrue(silentFor(c, 900), "a response overtook the one still being prepared");
            held.poll().complete(Response.text("held response"));
            RawResponse first = read(c);
            assertEquals("held response", first.bodyText());
            RawResponse second = read(c);
            assertEquals(408, second.status());
            assertEquals("close", second.header("Connection"));
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void onTheIoLoopTheLimitsAreAnsweredTheSameWay() throws Exception {
        HttpTestSupport.stop(server);
        server = HttpTestSupport.start(routes().execution(Protocol.Execution.IO_LOOP).build());
        long before = protocolErrors();
        assertRejected("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + (MAX_BODY + 1) + "\r\n\r\n", 413);
        assertRejected(get("/" + "a".repeat(2000)), 414);
        assertRejected("THIS IS NOT HTTP AT ALL\r\n\r\n", 400);
        Await.until("protocol errors counted", Duration.ofSeconds(5), () -> protocolErrors() >= before + 3);
        try (RawClient c = new RawClient(server.port())) {
            // Half a head and then nothing: the 408 is flushed from the timer, outside any read.
            c.send("GET / HTTP/1.1\r\nHost: x\r\n");
            RawResponse r = read(c);
            assertEquals(408, r.status());
            assertEquals("close", r.header("Connection"));
            assertTrue(c.isClosedByServer());
        }
        assertServesNormally();
    }
}
