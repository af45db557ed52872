package dev.serverframework.examples.bench;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ReplyFramer}, which {@link StopProbe} uses to tell a complete reply from part of one. */
class StopProbeFramerTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Feeds {@code reply} one byte at a time: incomplete until its last byte, then its length. */
    private static void assertCompleteOnlyAtTheEnd(ReplyFramer f, String reply) throws ReplyFramer.BadReply {
        byte[] b = ascii(reply);
        f.reset();
        for (int n = 1; n < b.length; n++) {
            assertEquals(0, f.complete(b, n), "after " + n + " of " + b.length + " bytes");
        }
        assertEquals(b.length, f.complete(b, b.length));
    }

    @Test
    void httpConnectionCloseIsATokenInAnyCase() throws Exception {
        ReplyFramer f = ReplyFramer.http(200, "Hello World!");
        assertCompleteOnlyAtTheEnd(f, "HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 12\r\n\r\n"
                + "Hello World!");
        assertTrue(f.saysClose());
        assertCompleteOnlyAtTheEnd(f, "HTTP/1.1 200 OK\r\nConnection: closed-captions\r\nContent-Length: 12\r\n\r\n"
                + "Hello World!");
        assertFalse(f.saysClose(), "not the token close");
        assertCompleteOnlyAtTheEnd(f, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello World!");
        assertFalse(f.saysClose());
        assertCompleteOnlyAtTheEnd(f, "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nHello World!");
        assertTrue(f.saysClose(), "HTTP/1.0 without keep-alive closes");
    }

    @Test
    void httpRejectsWhatCannotBeFramedOrIsNotExpected() {
        ReplyFramer f = ReplyFramer.http(200, "Hello World!");
        String[] bad = {
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n",
            "HTTP/1.1 503 Busy\r\nContent-Length: 12\r\n\r\nHello World!",
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello Worms!",
            "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
            "Hello",
        };
        for (String b : bad) {
            f.reset();
            assertThrows(ReplyFramer.BadReply.class, () -> f.complete(ascii(b), b.length()), b);
        }
    }

    @Test
    void httpExpectStatusZeroAcceptsAnyFinalStatus() throws Exception {
        ReplyFramer f = ReplyFramer.http(0, null);
        assertCompleteOnlyAtTheEnd(f, "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy");
        assertTrue(f.saysClose());
        assertCompleteOnlyAtTheEnd(f, "HTTP/1.1 204 No Content\r\n\r\n");
    }

    @Test
    void respFramesEveryReplyTypeAndNotesAnythingButPong() throws Exception {
        ReplyFramer f = ReplyFramer.resp();
        assertCompleteOnlyAtTheEnd(f, "+PONG\r\n");
        assertNull(f.unexpected());
        assertCompleteOnlyAtTheEnd(f, "-ERR shutting down\r\n");
        assertEquals("-ERR shutting down\\r\\n", f.unexpected());
        assertCompleteOnlyAtTheEnd(f, "$5\r\nhello\r\n");
        assertCompleteOnlyAtTheEnd(f, "*2\r\n$3\r\nfoo\r\n*1\r\n:42\r\n");
        assertCompleteOnlyAtTheEnd(f, "$-1\r\n");
        assertThrows(ReplyFramer.BadReply.class, () -> f.complete(ascii("HTTP/1.1 200"), 12));
        assertThrows(ReplyFramer.BadReply.class, () -> f.complete(ascii("$3\r\nfooXY"), 9));
    }
}
