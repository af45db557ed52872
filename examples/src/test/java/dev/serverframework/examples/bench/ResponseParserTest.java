package dev.serverframework.examples.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The response framing rules bench validates with, byte by byte. */
class ResponseParserTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello World!";

    private static ResponseParser.Outcome feed(ResponseParser p, String text) {
        ByteBuf b = Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
        try {
            return p.feed(b);
        } finally {
            b.release();
        }
    }

    @Test
    void aResponseSplitAtEveryByteIsStillOneValidResponse() {
        ResponseParser p = new ResponseParser(200, "Hello World!".getBytes(StandardCharsets.US_ASCII), false);
        p.expectResponse();
        ResponseParser.Outcome last = null;
        for (int i = 0; i < OK.length(); i++) {
            ResponseParser.Outcome o = feed(p, OK.substring(i, i + 1));
            if (i < OK.length() - 1) {
                assertNull(o, "incomplete at byte " + i);
            }
            last = o;
        }
        assertTrue(last.ok(), String.valueOf(last));
        assertFalse(last.serverCloses());
        assertFalse(p.inResponse());
    }

    @Test
    void bytesBeyondContentLengthInTheSameReadAreWrongLength() {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        assertEquals(ErrorKind.WRONG_LENGTH, feed(p, OK + "xyz").kind());
    }

    @Test
    void endOfInputInsideTheBodyIsWrongLengthAndBeforeAnyByteIsClosed() {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        assertNull(feed(p, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nHello"));
        assertEquals(ErrorKind.WRONG_LENGTH, p.endOfInput().kind());
        p.expectResponse();
        assertEquals(ErrorKind.CLOSED, p.endOfInput().kind());
    }

    @Test
    void withoutContentLengthTheBodyEndsWithTheConnection() {
        ResponseParser p = new ResponseParser(200, "abc".getBytes(StandardCharsets.US_ASCII), false);
        p.expectResponse();
        assertNull(feed(p, "HTTP/1.0 200 OK\r\n\r\nabc"));
        ResponseParser.Outcome o = p.endOfInput();
        assertTrue(o.ok(), String.valueOf(o));
        assertTrue(o.serverCloses());
    }

    @Test
    void connectionCloseHttp10AndChunkedAreRecognised() {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        assertTrue(feed(p, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").serverCloses());
        p.expectResponse();
        assertTrue(feed(p, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").serverCloses());
        p.expectResponse();
        assertFalse(feed(p, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").serverCloses());
        p.expectResponse();
        assertEquals(ErrorKind.BAD_RESPONSE,
                feed(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").kind());
    }

    @Test
    void garbageAndConflictingLengthsAreProtocolErrors() {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        assertEquals(ErrorKind.BAD_RESPONSE, feed(p, "HTTP/1.1 2x0 OK\r\n\r\n").kind());
        p.expectResponse();
        assertEquals(ErrorKind.BAD_RESPONSE,
                feed(p, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").kind());
        p.expectResponse();
        assertEquals(ErrorKind.WRONG_LENGTH, feed(p, "llo World!HTTP/1.1 200 OK\r\n").kind(),
                "a response that does not start with HTTP/ is the tail of an over-long body");
        // Bytes when no response is due.
        assertEquals(ErrorKind.WRONG_LENGTH, feed(p, "x").kind());
    }

    @Test
    void anExpected101EndsAtItsHeadAndLeavesTheNewProtocolsBytes() {
        ResponseParser p = new ResponseParser(101, null, false);
        p.expectResponse();
        ByteBuf b = Unpooled.copiedBuffer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\n\r\n\u0082\u0001x", StandardCharsets.ISO_8859_1);
        try {
            ResponseParser.Outcome o = p.feed(b);
            assertTrue(o.ok(), String.valueOf(o));
            assertFalse(o.serverCloses());
            assertEquals(3, b.readableBytes(), "the frame after the head stays");
        } finally {
            b.release();
        }
        ResponseParser http = new ResponseParser(200, null, false);
        http.expectResponse();
        assertEquals(ErrorKind.BAD_RESPONSE, feed(http, "HTTP/1.1 101 Switching Protocols\r\n\r\n").kind(),
                "a 101 nobody asked for is no answer");
    }
}
