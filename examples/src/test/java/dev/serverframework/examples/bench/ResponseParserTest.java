package dev.serverframework.examples.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
    void connectionCloseAndHttp10AreRecognised() {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        assertTrue(feed(p, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").serverCloses());
        p.expectResponse();
        assertTrue(feed(p, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").serverCloses());
        p.expectResponse();
        assertFalse(feed(p, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").serverCloses());
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

    private static final String CHUNKED_HEAD = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    /** "Hello World!" in three chunks, one with extensions, a size with a leading zero and in upper case, a trailer. */
    private static final String CHUNKED = CHUNKED_HEAD + "5;name=value;q=\"a b\"\r\nHello\r\n01\r\n \r\n"
            + "6\r\nWorld!\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\n\r\n";

    /** Feeds {@code text} in two reads split at {@code at}; the outcome of the second (or first) read. */
    private static ResponseParser.Outcome feedSplit(ResponseParser p, String text, int at) {
        ResponseParser.Outcome first = feed(p, text.substring(0, at));
        if (first != null) {
            return first;
        }
        return at == text.length() ? null : feed(p, text.substring(at));
    }

    @Test
    void aChunkedResponseSplitAtEveryByteBoundaryIsOneValidResponseAndTheNextOneFollows() {
        byte[] body = "Hello World!".getBytes(StandardCharsets.US_ASCII);
        for (int at = 1; at <= CHUNKED.length(); at++) {
            ResponseParser p = new ResponseParser(200, body, false);
            p.expectResponse();
            ResponseParser.Outcome o = feedSplit(p, CHUNKED, at);
            assertTrue(o != null && o.ok(), "split at " + at + ": " + o);
            assertFalse(o.serverCloses());
            p.expectResponse(); // keep-alive: the next response on the same connection
            ResponseParser.Outcome next = feed(p, CHUNKED_HEAD + "c\r\nHello World!\r\n0\r\n\r\n");
            assertTrue(next.ok(), "after a split at " + at + ": " + next);
        }
        ResponseParser p = new ResponseParser(200, body, false);
        p.expectResponse();
        ResponseParser.Outcome last = null;
        for (int i = 0; i < CHUNKED.length(); i++) {
            last = feed(p, CHUNKED.substring(i, i + 1));
            if (i < CHUNKED.length() - 1) {
                assertNull(last, "incomplete at byte " + i);
            }
        }
        assertTrue(last.ok(), String.valueOf(last));
    }

    @Test
    void aChunkedBodyIsComparedWithTheExpectedBodyAcrossChunks() {
        ResponseParser p = new ResponseParser(200, "Hello World?".getBytes(StandardCharsets.US_ASCII), false);
        p.expectResponse();
        assertEquals(ErrorKind.BAD_BODY, feed(p, CHUNKED).kind());
        ResponseParser shorter = new ResponseParser(200, "Hello World!!".getBytes(StandardCharsets.US_ASCII), false);
        shorter.expectResponse();
        assertEquals(ErrorKind.BAD_BODY, feed(shorter, CHUNKED).kind());
    }

    @Test
    void aChunkedBodyCutShortOrFollowedByMoreBytesIsWrongLength() {
        for (int cut = CHUNKED_HEAD.length(); cut < CHUNKED.length(); cut++) {
            ResponseParser p = new ResponseParser(200, null, false);
            p.expectResponse();
            assertNull(feed(p, CHUNKED.substring(0, cut)), "cut at " + cut);
            assertEquals(ErrorKind.WRONG_LENGTH, p.endOfInput().kind(), "cut at " + cut);
        }
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        ResponseParser.Outcome o = feed(p, CHUNKED + "xyz");
        assertEquals(ErrorKind.WRONG_LENGTH, o.kind());
        assertEquals("3 bytes beyond the end of the chunked body", o.detail());
    }

    /** Each body is malformed chunked framing: a protocol error, at once and whatever the read boundaries. */
    @ParameterizedTest
    @ValueSource(strings = {
            "+5\r\nhello\r\n0\r\n\r\n",             // a sign
            "-5\r\nhello\r\n0\r\n\r\n",
            " 5\r\nhello\r\n0\r\n\r\n",             // whitespace before
            "5 \r\nhello\r\n0\r\n\r\n",             // whitespace after, no extension follows
            "5 x\r\nhello\r\n0\r\n\r\n",
            "0x5\r\nhello\r\n0\r\n\r\n",            // a C prefix
            "\r\nhello\r\n0\r\n\r\n",               // no size
            "g\r\n",                                 // not hex
            "80000000\r\n",                          // over the maximum
            "00000000000000005\r\nhello\r\n0\r\n\r\n", // too many digits
            "5\nhello\r\n0\r\n\r\n",                 // LF without CR after the size
            "5\rhello\r\n0\r\n\r\n",                 // CR without LF
            "5\r\nhello!\r\n0\r\n\r\n",             // more data than the size
            "5\r\nhello\n0\r\n\r\n",                 // LF without CR after the data
            "5;ext\u0001\r\nhello\r\n0\r\n\r\n",     // a control byte in an extension
            "5\r\nhello\r\n0\r\nno colon\r\n\r\n",   // a trailer line that is no field
            "5\r\nhello\r\n0\r\n: no name\r\n\r\n",
            "5\r\nhello\r\n0\r\nX Y: z\r\n\r\n",      // whitespace in a trailer name
            "5\r\nhello\r\n0\r\n\n",                   // the last line without CR
    })
    void malformedChunkFramingIsAProtocolError(String body) {
        String response = CHUNKED_HEAD + body;
        for (int at = 1; at <= response.length(); at++) {
            ResponseParser p = new ResponseParser(200, null, false);
            p.expectResponse();
            ResponseParser.Outcome o = feedSplit(p, response, at);
            assertTrue(o != null && o.kind() == ErrorKind.BAD_RESPONSE, "split at " + at + ": " + o);
            assertTrue(o.detail().startsWith("chunked body after "), o.detail());
            assertFalse(p.inResponse());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    })
    void aTransferEncodingOtherThanOneChunkedOrWithContentLengthIsAProtocolError(String head) {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        assertEquals(ErrorKind.BAD_RESPONSE, feed(p, head + "5\r\nhello\r\n0\r\n\r\n").kind());
    }

    @Test
    void aChunkedHeadResponseHasNoBody() {
        ResponseParser p = new ResponseParser(200, null, true);
        p.expectResponse();
        assertTrue(feed(p, CHUNKED_HEAD).ok());
    }

    /** RFC 9112 7.1.1: blanks (BWS) may stand between the size and an extension's ';'. */
    @ParameterizedTest
    @ValueSource(strings = {"5 ;a=b\r\n", "5\t;a\r\n", "5 \t ;a=\"x y\"\r\n", "5 ; a = b\r\n"})
    void blanksBeforeAChunkExtensionAreAccepted(String sizeLine) {
        String response = CHUNKED_HEAD + sizeLine + "Hello\r\n7\r\n World!\r\n0\r\n\r\n";
        for (int at = 1; at <= response.length(); at++) {
            ResponseParser p = new ResponseParser(200, "Hello World!".getBytes(StandardCharsets.US_ASCII), false);
            p.expectResponse();
            ResponseParser.Outcome o = feedSplit(p, response, at);
            assertTrue(o != null && o.ok(), "split at " + at + ": " + o);
        }
    }

    /** Chunk data longer or shorter than its size: the same message, which does not guess which. */
    @ParameterizedTest
    @ValueSource(strings = {"5\r\nhello!\r\n0\r\n\r\n", "5\r\nhell\r\n0\r\n\r\n"})
    void chunkDataOfTheWrongSizeIsNotFollowedByCrlf(String body) {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        ResponseParser.Outcome o = feed(p, CHUNKED_HEAD + body);
        assertEquals(ErrorKind.BAD_RESPONSE, o.kind());
        assertTrue(o.detail().contains("chunk data not followed by CRLF"), o.detail());
        assertFalse(o.detail().contains("?"), o.detail());
    }

    @Test
    void theChunkSizeLimitIsNamedAsThisToolsOwn() {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        ResponseParser.Outcome o = feed(p, CHUNKED_HEAD + "80000000\r\n");
        assertEquals(ErrorKind.BAD_RESPONSE, o.kind());
        assertTrue(o.detail().contains("chunk size over 2147483647 bytes, the most this tool accepts"), o.detail());
    }

    /**
     * No body follows a HEAD response, a 204 or a 304, so their Transfer-Encoding frames nothing: not an
     * error, whatever it says, and the next response on the connection is read from the next byte.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "Transfer-Encoding: chunked\r\n",
            "Transfer-Encoding: gzip\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    })
    void aTransferEncodingWhereNoBodyFollowsIsNoError(String headers) {
        ResponseParser head = new ResponseParser(200, null, true);
        head.expectResponse();
        ResponseParser.Outcome o = feed(head, "HTTP/1.1 200 OK\r\n" + headers + "\r\n");
        assertTrue(o != null && o.ok(), "HEAD: " + o);
        head.expectResponse();
        o = feed(head, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + headers + "\r\n");
        assertTrue(o != null && o.ok(), "HEAD, HTTP/1.0: " + o);
        for (int status : new int[] {204, 304}) {
            ResponseParser p = new ResponseParser(status, null, false);
            p.expectResponse();
            o = feed(p, "HTTP/1.1 " + status + " X\r\n" + headers + "\r\n");
            assertTrue(o != null && o.ok(), status + ": " + o);
            p.expectResponse();
            o = feed(p, "HTTP/1.1 " + status + " X\r\n\r\n");
            assertTrue(o != null && o.ok(), status + ", the next response: " + o);
        }
    }

    @Test
    void transferEncodingErrorsNameWhatWasSent() {
        ResponseParser p = new ResponseParser(200, null, false);
        p.expectResponse();
        assertEquals("Transfer-Encoding other than a single chunked: gzip, chunked",
                feed(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").detail());
        p.expectResponse();
        assertEquals("Transfer-Encoding other than a single chunked: 2 Transfer-Encoding headers",
                feed(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: CHUNKED\r\n\r\n")
                        .detail());
        p.expectResponse();
        assertTrue(feed(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n").ok(),
                "the coding's name is case-insensitive");
    }
}
