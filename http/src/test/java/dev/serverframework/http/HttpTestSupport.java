package dev.serverframework.http;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerBuilder;
import dev.serverframework.core.testing.RawClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared pieces of the http tests: starting a server on an ephemeral loopback port, a JDK client, and a
 * strict reader of raw HTTP/1.1 responses (exact framing: Content-Length, chunked, or close-delimited).
 */
public final class HttpTestSupport {
    /** The format of the Date header (RFC 9110 IMF-fixdate). */
    public static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private HttpTestSupport() {
    }

    /** Starts a server on 127.0.0.1 and an ephemeral port with this protocol. */
    public static Server start(HttpProtocol protocol) {
        return start(protocol, b -> { });
    }

    /** Starts a server on 127.0.0.1 and an ephemeral port with this protocol and extra settings. */
    public static Server start(HttpProtocol protocol, Consumer<ServerBuilder> settings) {
        ServerBuilder b = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).protocol(protocol);
        settings.accept(b);
        return b.build().start();
    }

    /** Stops a server (if any) and waits for it. */
    public static void stop(Server server) throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    /** An HTTP/1.1 JDK client. */
    public static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A request builder for a path on the server, with a bounded timeout. */
    public static HttpRequest.Builder request(Server server, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(10));
    }

    /** Sends a request and returns the response with a String body. */
    public static HttpResponse<String> send(HttpClient client, HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Sends a request and returns the response with a byte[] body. */
    public static HttpResponse<byte[]> sendBytes(HttpClient client, HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A minimal raw HTTP/1.1 GET. */
    public static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    /** One response as read off the wire. */
    public record RawResponse(String statusLine, int status, Map<String, List<String>> headers, byte[] body,
                       boolean chunked) {
        /** The first value of a header (name case-insensitive), or null. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : values.get(0);
        }

        /** Every value of a header (name case-insensitive). */
        public List<String> headers(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Reads one response to a non-HEAD request. */
    public static RawResponse read(RawClient c) {
        return read(c, false);
    }

    /**
     * Reads one response: status line, headers, then exactly the body its framing announces (none for HEAD,
     * 1xx, 204 and 304). Fails when the connection ends early.
     */
    public static RawResponse read(RawClient c, boolean head) {
        String statusLine = c.readLine();
        assertNotNull(statusLine, "connection closed before a response");
        return readAfterStatusLine(c, statusLine, head);
    }

    /**
     * Reads one response to a non-HEAD request, or returns null when the server ended the connection
     * cleanly before its first byte (a close between responses). A reset or a response cut short fails.
     */
    public static RawResponse readOrEof(RawClient c) {
        String statusLine = c.readLine();
        return statusLine == null ? null : readAfterStatusLine(c, statusLine, false);
    }

    /** Reads the rest of one response to a non-HEAD request whose status line has been read already. */
    public static RawResponse readAfterStatusLine(RawClient c, String statusLine) {
        return readAfterStatusLine(c, statusLine, false);
    }

    private static RawResponse readAfterStatusLine(RawClient c, String statusLine, boolean head) {
        assertTrue(statusLine.startsWith("HTTP/1.1 "), "bad status line: " + statusLine);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while (!(line = nonNull(c.readLine())).isEmpty()) {
            int colon = line.indexOf(':');
            assertTrue(colon > 0, "bad header line: " + line);
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        List<String> te = headers.get("transfer-encoding");
        boolean chunked = te != null && te.get(0).equalsIgnoreCase("chunked");
        List<String> cl = headers.get("content-length");
        byte[] body;
        if (head || status < 200 || status == 204 || status == 304) {
            body = new byte[0];
        } else if (chunked) {
            body = readChunked(c);
        } else if (cl != null) {
            assertEquals(1, cl.size(), "Content-Length sent more than once");
            body = c.readExactly(Integer.parseInt(cl.get(0)));
        } else {
            body = c.readToEnd();
        }
        return new RawResponse(statusLine, status, headers, body, chunked);
    }

    private static byte[] readChunked(RawClient c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = c.readLine();
            assertNotNull(sizeLine, "connection closed inside a chunked body");
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            if (size == 0) {
                while (!nonNull(c.readLine()).isEmpty()) {
                    // trailer fields: none expected, skipped
                }
                return out.toByteArray();
            }
            out.writeBytes(c.readExactly(size));
            assertEquals("", c.readLine(), "chunk not followed by CRLF");
        }
    }

    private static String nonNull(String line) {
        assertNotNull(line, "connection closed inside a response head");
        return line;
    }

    /**
     * True when nothing arrives on the socket within {@code millis} (the read times out); false when bytes
     * arrive or the connection ends. Restores the client's usual 10-second read timeout.
     */
    public static boolean silentFor(RawClient c, int millis) throws Exception {
        c.socket().setSoTimeout(millis);
        try {
            c.socket().getInputStream().read();
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            c.socket().setSoTimeout(10_000);
        }
    }

    /**
     * Asserts that the server ended the connection with a clean end of stream (a FIN) and sent nothing
     * more: not a reset, not extra bytes, not silence for the read timeout.
     */
    public static void assertCleanEof(RawClient c) {
        byte[] rest = new byte[256];
        int n;
        try {
            n = c.socket().getInputStream().read(rest);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection within the read timeout");
        } catch (IOException e) {
            throw new AssertionError("the connection ended with a reset instead of a clean close: " + e, e);
        }
        if (n >= 0) {
            throw new AssertionError("bytes where the end of stream was expected: "
                    + new String(rest, 0, n, StandardCharsets.UTF_8));
        }
    }

    /** Asserts a Date header in IMF-fixdate format. */
    public static void assertDate(String date) {
        assertNotNull(date, "Date header missing");
        IMF_FIXDATE.parse(date);
    }
}
