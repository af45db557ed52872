package dev.serverframework.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The fuzz test's response check accepts well-formed streams and catches the faults it is there for. */
class ResponseStreamCheckTest {
    private static final String DATE = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
    private static final String OK = "HTTP/1.1 200 OK\r\n" + DATE + "Content-Length: 5\r\n\r\nhello";

    private static ResponseStreamCheck.Result check(String stream, boolean ended, boolean head) {
        return ResponseStreamCheck.check(stream.getBytes(StandardCharsets.ISO_8859_1), ended, head);
    }

    private static void assertFault(String stream, boolean ended, boolean head) {
        assertNotNull(check(stream, ended, head).error(), stream);
    }

    @Test
    void wellFormedStreamsPass() {
        assertNull(check("", true, false).error());
        ResponseStreamCheck.Result r = check("HTTP/1.1 100 Continue\r\n\r\n" + OK + "HTTP/1.1 200 OK\r\n" + DATE
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                + "HTTP/1.1 400 Bad Request\r\n" + DATE + "Connection: close\r\nContent-Length: 0\r\n\r\n", true, false);
        assertNull(r.error());
        assertEquals(List.of(100, 200, 200, 400), r.statuses());
        assertNull(check(OK, false, false).error(), "a kept connection may stay open after a complete response");
        assertNull(check("HTTP/1.1 200 OK\r\n" + DATE + "Connection: close\r\n\r\nuntil the end", true, false).error());
        // A HEAD response: a length, no body.
        assertNull(check("HTTP/1.1 200 OK\r\n" + DATE + "Content-Length: 5\r\n\r\n" + OK, true, true).error());
    }

    @Test
    void faultsAreCaught() {
        assertFault(OK + "x", true, false);
        assertFault(OK.substring(0, OK.length() - 1), true, false);
        assertFault("HTTP/1.1 200 OK\r\n" + DATE + "Content-Length: 5\r\n\r\n" + OK, true, false);
        assertFault("HTTP/1.1 200 OK\r\n" + DATE + "Connection: close\r\nContent-Length: 5\r\n\r\nhello" + OK, true, false);
        assertFault("HTTP/1.1 200 OK\r\n" + DATE + "Connection: close\r\nContent-Length: 5\r\n\r\nhello", false, false);
        assertFault("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", true, false);
        assertFault("HTTP/1.0 200 OK\r\n" + DATE + "Content-Length: 5\r\n\r\nhello", true, false);
        assertFault("HTTP/1.1 500 Internal Server Error\r\n" + DATE + "Content-Length: 0\r\n\r\n", true, false);
        assertFault("HTTP/1.1 200 OK\r\n" + DATE + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", true, false);
        assertFault("HTTP/1.1 200 OK\r\n" + DATE + "Bad Header\r\nContent-Length: 5\r\n\r\nhello", true, false);
        assertFault("HTTP/1.1 200 OK\r\n" + DATE + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello!\r\n0\r\n\r\n", true, false);
        assertFault("HTTP/1.1 200 OK\r\n" + DATE + "\r\nunframed", true, false);
        assertFault("HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n" + OK, true, false);
    }
}
