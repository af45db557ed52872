package dev.serverframework.http.sse;

import dev.serverframework.core.testing.RawClient;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An SSE client on a raw socket that reads the wire strictly: the response head, then one chunk at a time
 * (hex size with no extensions, CRLF, exactly that many bytes, CRLF), so that a test sees each write the
 * server made as it was framed.
 */
final class SseTestClient implements AutoCloseable {
    final RawClient raw;
    private int status;
    private final Map<String, List<String>> headers = new LinkedHashMap<>();

    private SseTestClient(RawClient raw) {
        this.raw = raw;
    }

    /** Connects and sends an HTTP/1.1 GET of {@code target} with these extra header lines. */
    static SseTestClient get(int port, String target, String... headerLines) {
        return request(port, "GET " + target + " HTTP/1.1", headerLines);
    }

    /** Connects and sends this request line with a Host header and these extra header lines. */
    static SseTestClient request(int port, String requestLine, String... headerLines) {
        SseTestClient c = new SseTestClient(new RawClient(port));
        StringBuilder sb = new StringBuilder(requestLine).append("\r\nHost: localhost\r\n");
        for (String h : headerLines) {
            sb.append(h).append("\r\n");
        }
        c.raw.send(sb.append("\r\n").toString());
        return c;
    }

    /** Reads the status line and the headers; returns the status. */
    int readHead() {
        String statusLine = raw.readLine();
        assertNotNull(statusLine, "connection closed before a response");
        assertTrue(statusLine.startsWith("HTTP/1.1 "), "bad status line: " + statusLine);
        status = Integer.parseInt(statusLine.substring(9, 12));
        String line;
        while (!(line = nonNull(raw.readLine())).isEmpty()) {
            int colon = line.indexOf(':');
            assertTrue(colon > 0, "bad header line: " + line);
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        return status;
    }

    /** The first value of a header (name case-insensitive), or null. */
    String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null ? null : values.get(0);
    }

    /** Reads one chunk strictly; returns its bytes as UTF-8, or null for the last chunk (with its empty trailer). */
    String readChunk() {
        String sizeLine = crlfLine();
        assertTrue(sizeLine.matches("[0-9a-f]+"), "bad chunk size line: '" + sizeLine + "'");
        int size = Integer.parseInt(sizeLine, 16);
        if (size == 0) {
            assertEquals("", crlfLine(), "a trailer after the last chunk");
            return null;
        }
        String data = new String(raw.readExactly(size), StandardCharsets.UTF_8);
        assertEquals("\r\n", new String(raw.readExactly(2), StandardCharsets.US_ASCII), "chunk not followed by CRLF");
        return data;
    }

    /** One line that must end in CR LF (returned without it); no bare LF or CR inside. */
    private String crlfLine() {
        StringBuilder line = new StringBuilder();
        while (true) {
            char c = (char) (raw.readExactly(1)[0] & 0xff);
            if (c == '\r') {
                assertEquals('\n', (char) raw.readExactly(1)[0], "CR without LF in " + line);
                return line.toString();
            }
            assertTrue(c != '\n', "bare LF after " + line);
            line.append(c);
        }
    }

    private static String nonNull(String line) {
        assertNotNull(line, "connection closed inside a response");
        return line;
    }

    @Override
    public void close() {
        raw.close();
    }
}
