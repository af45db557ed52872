package dev.serverframework.http;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;

import static dev.serverframework.http.HttpTestSupport.read;
import static dev.serverframework.http.HttpTestSupport.request;
import static dev.serverframework.http.HttpTestSupport.send;
import static dev.serverframework.http.HttpTestSupport.sendBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Static files under {@code /static}: content types, validators and 304, byte ranges (206/416), index.html
 * and no listings, HEAD, a large file byte-exact, and no way out of the root (traversal in every encoding,
 * NUL bytes, symbolic links).
 */
class StaticFilesTest {
    private static final String SECRET = "TOP-SECRET-CONTENT-7f3a";
    private static final Instant MODIFIED = Instant.parse("2024-03-01T12:00:00Z");
    private static HttpClient client;

    @TempDir
    Path tmp;

    private Path root;
    private byte[] sample;
    private Server server;

    @BeforeAll
    static void client() {
        client = HttpTestSupport.newClient();
    }

    @BeforeEach
    void start() throws Exception {
        root = Files.createDirectory(tmp.resolve("public"));
        Files.writeString(tmp.resolve("secret"), SECRET);
        Path secretDir = Files.createDirectory(tmp.resolve("private"));
        Files.writeString(secretDir.resolve("secret.txt"), SECRET);

        sample = new byte[1000];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = (byte) ('a' + i % 26);
        }
        Files.write(root.resolve("sample.txt"), sample);
        Files.setLastModifiedTime(root.resolve("sample.txt"), FileTime.from(MODIFIED));
        Files.writeString(root.resolve("style.css"), "body{}");
        Files.writeString(root.resolve("app.js"), "let a;");
        Files.writeString(root.resolve("data.json"), "{}");
        Files.write(root.resolve("pic.PNG"), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        Files.writeString(root.resolve("page.html"), "<h1>page</h1>");
        Files.writeString(root.resolve("noext"), "x");
        Files.writeString(root.resolve("weird.xyz"), "x");
        Files.writeString(root.resolve("index.html"), "<h1>root index</h1>");
        Path docs = Files.createDirectory(root.resolve("docs"));
        Files.writeString(docs.resolve("index.html"), "<h1>docs index</h1>");
        Files.writeString(docs.resolve("a b.txt"), "spaced name");
        Path empty = Files.createDirectory(root.resolve("empty"));
        Files.writeString(empty.resolve("hidden.txt"), "not listed");
        Files.writeString(root.resolve("empty.txt"), "");
        // Links inside the root that lead outside it, and one that stays inside.
        Files.createSymbolicLink(root.resolve("link-to-secret"), tmp.resolve("secret"));
        Files.createSymbolicLink(root.resolve("link-to-private"), secretDir);
        Files.createSymbolicLink(root.resolve("link-inside"), root.resolve("sample.txt"));

        server = HttpTestSupport.start(HttpProtocol.builder()
                .get("/", r -> Response.text("app root"))
                .staticFiles("/static", root)
                .build());
    }

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        var b = request(server, path);
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(client, b.build());
    }

    @Test
    void servesAFileWithContentTypeLengthAndValidators() throws Exception {
        HttpResponse<String> r = get("/static/sample.txt");
        assertEquals(200, r.statusCode());
        assertEquals(new String(sample, StandardCharsets.US_ASCII), r.body());
        assertEquals("1000", r.headers().firstValue("Content-Length").orElseThrow());
        assertEquals("text/plain; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("Fri, 01 Mar 2024 12:00:00 GMT", r.headers().firstValue("Last-Modified").orElseThrow());
        assertTrue(r.headers().firstValue("ETag").isPresent());
        assertEquals("bytes", r.headers().firstValue("Accept-Ranges").orElseThrow());
        assertEquals("spaced name", get("/static/docs/a%20b.txt").body());
        assertEquals("", get("/static/empty.txt").body());
        assertEquals("app root", get("/").body(), "other routes are untouched");
    }

    @Test
    void contentTypeComesFromTheExtension() throws Exception {
        assertEquals("text/css; charset=utf-8", contentType("/static/style.css"));
        assertEquals("text/javascript; charset=utf-8", contentType("/static/app.js"));
        assertEquals("application/json", contentType("/static/data.json"));
        assertEquals("image/png", contentType("/static/pic.PNG"), "extensions match case-insensitively");
        assertEquals("text/html; charset=utf-8", contentType("/static/page.html"));
        assertEquals("application/octet-stream", contentType("/static/noext"));
        assertEquals("application/octet-stream", contentType("/static/weird.xyz"));
    }

    private String contentType(String path) throws Exception {
        HttpResponse<String> r = get(path);
        assertEquals(200, r.statusCode(), path);
        return r.headers().firstValue("Content-Type").orElseThrow();
    }

    @Test
    void ifModifiedSinceAnswers304WhenNotNewer() throws Exception {
        String lastModified = get("/static/sample.txt").headers().firstValue("Last-Modified").orElseThrow();
        HttpResponse<String> same = get("/static/sample.txt", "If-Modified-Since", lastModified);
        assertEquals(304, same.statusCode());
        assertEquals("", same.body());
        assertEquals(lastModified, same.headers().firstValue("Last-Modified").orElseThrow());
        assertTrue(same.headers().firstValue("ETag").isPresent());

        assertEquals(304, get("/static/sample.txt", "If-Modified-Since", "Sat, 01 Jun 2024 00:00:00 GMT")
                .statusCode(), "a later date: not modified since");
        HttpResponse<String> older = get("/static/sample.txt", "If-Modified-Since", "Thu, 01 Feb 2024 00:00:00 GMT");
        assertEquals(200, older.statusCode(), "modified after the client's copy: full response");
        assertEquals(1000, older.body().length());
        assertEquals(200, get("/static/sample.txt", "If-Modified-Since", "not a date").statusCode());
    }

    @Test
    void ifNoneMatchAnswers304ForTheCurrentETag() throws Exception {
        String etag = get("/static/sample.txt").headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> same = get("/static/sample.txt", "If-None-Match", etag);
        assertEquals(304, same.statusCode());
        assertEquals(etag, same.headers().firstValue("ETag").orElseThrow());
        assertEquals(304, get("/static/sample.txt", "If-None-Match", "\"other\", " + etag).statusCode());
        assertEquals(304, get("/static/sample.txt", "If-None-Match", "*").statusCode());
        assertEquals(200, get("/static/sample.txt", "If-None-Match", "\"other\"").statusCode());
        // If-None-Match wins over If-Modified-Since.
        assertEquals(200, get("/static/sample.txt", "If-None-Match", "\"other\"",
                "If-Modified-Since", "Sat, 01 Jun 2024 00:00:00 GMT").statusCode());

        // A changed file gets a new ETag, so the old one no longer matches.
        Files.write(root.resolve("sample.txt"), Arrays.copyOf(sample, 999));
        HttpResponse<String> changed = get("/static/sample.txt", "If-None-Match", etag);
        assertEquals(200, changed.statusCode());
        assertEquals(999, changed.body().length());
    }

    @Test
    void singleRangeIs206WithExactBytes() throws Exception {
        HttpResponse<byte[]> r = sendBytes(client, request(server, "/static/sample.txt")
                .header("Range", "bytes=10-19").build());
        assertEquals(206, r.statusCode());
        assertEquals("bytes 10-19/1000", r.headers().firstValue("Content-Range").orElseThrow());
        assertEquals("10", r.headers().firstValue("Content-Length").orElseThrow());
        assertArrayEquals(Arrays.copyOfRange(sample, 10, 20), r.body());

        HttpResponse<byte[]> open = sendBytes(client, request(server, "/static/sample.txt")
                .header("Range", "bytes=990-").build());
        assertEquals(206, open.statusCode());
        assertEquals("bytes 990-999/1000", open.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(Arrays.copyOfRange(sample, 990, 1000), open.body());

        HttpResponse<byte[]> past = sendBytes(client, request(server, "/static/sample.txt")
                .header("Range", "bytes=995-5000").build());
        assertEquals("bytes 995-999/1000", past.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(Arrays.copyOfRange(sample, 995, 1000), past.body());
    }

    @Test
    void suffixRangeServesTheLastBytes() throws Exception {
        HttpResponse<byte[]> r = sendBytes(client, request(server, "/static/sample.txt")
                .header("Range", "bytes=-7").build());
        assertEquals(206, r.statusCode());
        assertEquals("bytes 993-999/1000", r.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(Arrays.copyOfRange(sample, 993, 1000), r.body());

        HttpResponse<byte[]> whole = sendBytes(client, request(server, "/static/sample.txt")
                .header("Range", "bytes=-5000").build());
        assertEquals(206, whole.statusCode());
        assertEquals("bytes 0-999/1000", whole.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(sample, whole.body());
    }

    @Test
    void unsatisfiableRangeIs416WithTheSize() throws Exception {
        for (String range : new String[] {"bytes=1000-", "bytes=5000-6000", "bytes=-0"}) {
            HttpResponse<String> r = get("/static/sample.txt", "Range", range);
            assertEquals(416, r.statusCode(), range);
            assertEquals("bytes */1000", r.headers().firstValue("Content-Range").orElseThrow(), range);
        }
        // Malformed or multiple ranges are ignored: the whole file.
        for (String range : new String[] {"bytes=0-1,5-6", "items=0-1", "bytes=9-3", "bytes=x-y"}) {
            HttpResponse<String> r = get("/static/sample.txt", "Range", range);
            assertEquals(200, r.statusCode(), range);
            assertEquals(1000, r.body().length(), range);
        }
    }

    @Test
    void directoryServesItsIndexAndNeverAListing() throws Exception {
        HttpResponse<String> docs = get("/static/docs/");
        assertEquals(200, docs.statusCode());
        assertEquals("<h1>docs index</h1>", docs.body());
        assertEquals("text/html; charset=utf-8", docs.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("<h1>docs index</h1>", get("/static/docs").body());
        assertEquals("<h1>root index</h1>", get("/static/").body());
        assertEquals("<h1>root index</h1>", get("/static").body());

        HttpResponse<String> empty = get("/static/empty/");
        assertEquals(404, empty.statusCode());
        assertFalse(empty.body().contains("hidden.txt"), empty.body());
        assertEquals(404, get("/static/empty").statusCode());
        assertEquals(404, get("/static/nope.txt").statusCode());
    }

    @Test
    void headOnAFileGivesItsHeadersAndNoBody() {
        try (RawClient c = new RawClient(server.port())) {
            c.send("HEAD /static/sample.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "HEAD /static/sample.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n"
                    + HttpTestSupport.get("/static/style.css"));
            RawResponse head = read(c, true);
            assertEquals(200, head.status());
            assertEquals("1000", head.header("Content-Length"));
            assertEquals("text/plain; charset=utf-8", head.header("Content-Type"));
            assertNotNull(head.header("Last-Modified"));
            RawResponse ranged = read(c, true);
            assertEquals(206, ranged.status());
            assertEquals("10", ranged.header("Content-Length"));
            RawResponse next = read(c);
            assertEquals("body{}", next.bodyText(), "no file bytes were sent for HEAD");
        }
    }

    @Test
    void otherMethodsOnStaticFilesAre405() throws Exception {
        HttpResponse<String> r = send(client, request(server, "/static/sample.txt")
                .POST(BodyPublishers.ofString("x")).build());
        assertEquals(405, r.statusCode());
        assertTrue(r.headers().firstValue("Allow").orElseThrow().contains("GET"));
    }

    @Test
    void largeFileArrivesByteExact() throws Exception {
        byte[] big = new byte[6 * 1024 * 1024 + 123];
        new Random(42).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        HttpResponse<byte[]> r = sendBytes(client, request(server, "/static/big.bin").build());
        assertEquals(200, r.statusCode());
        assertEquals(String.valueOf(big.length), r.headers().firstValue("Content-Length").orElseThrow());
        assertArrayEquals(big, r.body());
        // And a range from the middle of it, on the same keep-alive connection pool.
        HttpResponse<byte[]> part = sendBytes(client, request(server, "/static/big.bin")
                .header("Range", "bytes=3000000-3999999").build());
        assertEquals(206, part.statusCode());
        assertArrayEquals(Arrays.copyOfRange(big, 3_000_000, 4_000_000), part.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/static/../secret",
        "/static/%2e%2e/secret",
        "/static/%2E%2E%2Fsecret",
        "/static/..%2fsecret",
        "/static/..\\secret",
        "/static/%5c..%5csecret",
        "/static/a%00b",
        "/static/docs/../../secret",
        "/static/./../secret",
        "/static/%2e%2e%2f%2e%2e%2fprivate/secret.txt",
        "/static/..%252fsecret",
        "/static/%c0%ae%c0%ae/secret",
        "/static/link-to-secret",
        "/static/link-to-private/secret.txt",
        "/static/link-to-private/",
        "http://localhost/static/../secret",
    })
    void nothingOutsideTheRootIsServed(String target) {
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            RawResponse r = read(c);
            assertTrue(r.status() == 400 || r.status() == 404, target + " -> " + r.statusLine());
            assertFalse(r.bodyText().contains(SECRET), target);
        }
    }

    @Test
    void aSymbolicLinkThatStaysInsideTheRootIsServed() throws Exception {
        HttpResponse<String> r = get("/static/link-inside");
        assertEquals(200, r.statusCode());
        assertEquals(1000, r.body().length());
    }

    @Test
    void absoluteFormTargetServesTheFile() {
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET http://localhost/static/style.css?v=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            RawResponse r = read(c);
            assertEquals(200, r.status(), r.statusLine());
            assertEquals("body{}", r.bodyText());
        }
    }

    @Test
    void aMissingDirectoryIsRejectedAtBuildTime() {
        assertThrows(IllegalArgumentException.class,
                () -> HttpProtocol.builder().staticFiles("/s", tmp.resolve("does-not-exist")));
        assertThrows(IllegalArgumentException.class,
                () -> HttpProtocol.builder().staticFiles("/s", tmp.resolve("secret")));
        assertThrows(IllegalArgumentException.class, () -> HttpProtocol.builder().staticFiles("s", root));
    }
}
