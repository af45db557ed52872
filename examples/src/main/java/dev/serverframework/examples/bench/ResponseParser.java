package dev.serverframework.examples.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A minimal, strict HTTP/1.x response reader for the load generator. It frames a response by its
 * {@code Content-Length}, by {@code Transfer-Encoding: chunked} ({@link ChunkedBody}), or by the end of the
 * connection when there is neither, and reports a response whose bytes do not match its framing as
 * {@link ErrorKind#WRONG_LENGTH} (a body cut short or followed by more bytes) or
 * {@link ErrorKind#BAD_RESPONSE} (malformed chunk framing, a transfer coding other than chunked, both
 * headers at once) instead of silently resynchronising, as a general-purpose decoder would. A
 * {@code 101 Switching Protocols}, when it is the status expected, ends at its head and leaves
 * the bytes after it, the new protocol's, in the buffer. Not thread-safe: one instance per connection, used
 * on that connection's event loop.
 */
final class ResponseParser {
    /** The result of one response: {@code kind == null} means a valid response. */
    record Outcome(ErrorKind kind, int status, boolean serverCloses, String detail) {
        boolean ok() {
            return kind == null;
        }
    }

    private static final int MAX_HEAD = 16 * 1024;

    private enum State { IDLE, HEAD, BODY_LENGTH, BODY_CHUNKED, BODY_UNTIL_CLOSE }

    private final int expectStatus;
    private final byte[] expectBody;
    private final boolean headRequest;
    /** The head so far when it arrived in several reads (the common case, one read, never copies it). */
    private byte[] head = new byte[256];
    private int headLen;
    private State state = State.IDLE;
    private int status;
    private boolean serverCloses;
    private long remaining;
    private long bodyRead;
    private boolean bodyMismatch;
    /** The response is the expected 101: what follows its head belongs to the protocol switched to. */
    private boolean switching;
    private final ChunkedBody chunks = new ChunkedBody();

    /**
     * @param expectStatus the status a valid response has
     * @param expectBody   the exact body a valid response has, or null not to check it
     * @param headRequest  true when the requests are HEAD (no body follows the head)
     */
    ResponseParser(int expectStatus, byte[] expectBody, boolean headRequest) {
        this.expectStatus = expectStatus;
        this.expectBody = expectBody;
        this.headRequest = headRequest;
    }

    /** Starts reading a new response (called when its request is sent). */
    void expectResponse() {
        state = State.HEAD;
        headLen = 0;
        status = 0;
        serverCloses = false;
        remaining = 0;
        bodyRead = 0;
        bodyMismatch = false;
        switching = false;
    }

    /** True while a response has been asked for and has not fully arrived. */
    boolean inResponse() {
        return state != State.IDLE;
    }

    /** True once at least one byte of the current response arrived. */
    boolean started() {
        return state != State.HEAD || headLen > 0;
    }

    /**
     * Consumes bytes of {@code in} (all of them unless an outcome is returned).
     *
     * @return the outcome once the response is complete or invalid, else null (more bytes are needed)
     */
    Outcome feed(ByteBuf in) {
        if (state == State.IDLE) {
            int n = in.readableBytes();
            in.skipBytes(n);
            return error(ErrorKind.WRONG_LENGTH, n + " bytes arrived when no response was due");
        }
        if (state == State.HEAD) {
            Outcome bad = headLen == 0 ? readHeadFast(in) : null;
            if (bad == null && state == State.HEAD) {
                bad = readHeadSlow(in);
            }
            if (bad != null) {
                in.skipBytes(in.readableBytes());
                return bad;
            }
            if (state == State.HEAD) {
                return null;
            }
            if (state == State.BODY_LENGTH && remaining == 0) {
                return complete(in);
            }
        }
        if (state == State.BODY_CHUNKED) {
            return feedChunked(in);
        }
        if (state == State.BODY_LENGTH) {
            int n = (int) Math.min(in.readableBytes(), remaining);
            checkBody(in, n);
            remaining -= n;
            if (remaining == 0) {
                return complete(in);
            }
            return null;
        }
        // BODY_UNTIL_CLOSE
        int n = in.readableBytes();
        checkBody(in, n);
        return null;
    }

    /** Chunk framing and data, across reads: the data is checked against --expect-body as one body. */
    private Outcome feedChunked(ByteBuf in) {
        try {
            while (true) {
                switch (chunks.advance(in)) {
                    case NEED_MORE:
                        return null;
                    case DATA:
                        int n = (int) Math.min(in.readableBytes(), chunks.dataRemaining());
                        checkBody(in, n);
                        chunks.consumed(n);
                        break;
                    default: // DONE
                        return complete(in);
                }
            }
        } catch (ChunkedBody.MalformedException e) {
            in.skipBytes(in.readableBytes());
            return error(ErrorKind.BAD_RESPONSE, "chunked body after " + bodyRead + " bytes: " + e.getMessage());
        }
    }

    private static final ErrorKind NOT_HTTP_KIND = ErrorKind.WRONG_LENGTH;
    private static final String NOT_HTTP = "response does not start with HTTP/ (bytes left over from a body "
            + "longer than its Content-Length?)";

    /** The whole head in this buffer: parse it in place. Null when parsed or when more bytes are needed. */
    private Outcome readHeadFast(ByteBuf in) {
        int from = in.readerIndex();
        int to = in.writerIndex();
        if (to - from >= 5 && !startsWithHttp(in, from)) {
            return error(NOT_HTTP_KIND, NOT_HTTP);
        }
        for (int cr = in.indexOf(from, to, (byte) '\r'); cr >= 0 && cr + 3 < to;
                cr = in.indexOf(cr + 1, to, (byte) '\r')) {
            if (in.getByte(cr + 1) == '\n' && in.getByte(cr + 2) == '\r' && in.getByte(cr + 3) == '\n') {
                in.readerIndex(cr + 4);
                return parseHead(in, from, cr);
            }
        }
        return null; // the head continues in the next read: the slow path copies it
    }

    /** Copies head bytes until the blank line; parses it once complete. */
    private Outcome readHeadSlow(ByteBuf in) {
        while (in.isReadable()) {
            byte b = in.readByte();
            if (headLen == head.length) {
                if (headLen >= MAX_HEAD) {
                    return error(ErrorKind.BAD_RESPONSE, "response head longer than " + MAX_HEAD + " bytes");
                }
                head = Arrays.copyOf(head, headLen * 2);
            }
            head[headLen++] = b;
            if (headLen == 5 && !startsWithHttp(Unpooled.wrappedBuffer(head, 0, 5), 0)) {
                return error(NOT_HTTP_KIND, NOT_HTTP);
            }
            if (b == '\n' && headLen >= 4 && head[headLen - 2] == '\r' && head[headLen - 3] == '\n'
                    && head[headLen - 4] == '\r') {
                return parseHead(Unpooled.wrappedBuffer(head, 0, headLen), 0, headLen - 4);
            }
        }
        return null;
    }

    private static boolean startsWithHttp(ByteBuf b, int at) {
        return b.getByte(at) == 'H' && b.getByte(at + 1) == 'T' && b.getByte(at + 2) == 'T' && b.getByte(at + 3) == 'P'
                && b.getByte(at + 4) == '/';
    }

    /** The connection ended: the outcome of the response in progress, or null if none was due. */
    Outcome endOfInput() {
        switch (state) {
            case IDLE:
                return null;
            case HEAD:
                return headLen == 0
                        ? error(ErrorKind.CLOSED, "connection closed before the response")
                        : error(ErrorKind.BAD_RESPONSE, "connection closed within the response head");
            case BODY_LENGTH:
                long announced = bodyRead + remaining;
                return error(ErrorKind.WRONG_LENGTH, "connection closed after " + bodyRead + " of "
                        + announced + " body bytes");
            case BODY_CHUNKED:
                return error(ErrorKind.WRONG_LENGTH, "connection closed within the chunked body, after "
                        + bodyRead + " body bytes");
            default:
                serverCloses = true;
                return finish();
        }
    }

    private void checkBody(ByteBuf in, int n) {
        if (expectBody != null && !bodyMismatch) {
            int base = in.readerIndex();
            for (int i = 0; i < n; i++) {
                long pos = bodyRead + i;
                if (pos >= expectBody.length || in.getByte(base + i) != expectBody[(int) pos]) {
                    bodyMismatch = true;
                    break;
                }
            }
        }
        in.skipBytes(n);
        bodyRead += n;
    }

    private Outcome complete(ByteBuf in) {
        if (in.isReadable() && !switching) {
            int extra = in.readableBytes();
            in.skipBytes(extra);
            String end = state == State.BODY_CHUNKED ? "end of the chunked body" : "Content-Length of " + bodyRead;
            return error(ErrorKind.WRONG_LENGTH, extra + " bytes beyond the " + end);
        }
        return finish();
    }

    private Outcome finish() {
        state = State.IDLE;
        if (status != expectStatus) {
            return new Outcome(ErrorKind.BAD_STATUS, status, serverCloses, "status " + status);
        }
        if (expectBody != null && (bodyMismatch || bodyRead != expectBody.length)) {
            return new Outcome(ErrorKind.BAD_BODY, status, serverCloses, "body differs from --expect-body");
        }
        return new Outcome(null, status, serverCloses, null);
    }

    private Outcome error(ErrorKind kind, String detail) {
        state = State.IDLE;
        return new Outcome(kind, status, true, detail);
    }

    /**
     * Parses the head in {@code b} from {@code from} to {@code end} (the index of its final CRLFCRLF) in
     * place, without building strings but for errors; sets the body state, or returns the error.
     */
    private Outcome parseHead(ByteBuf b, int from, int end) {
        int lineEnd = b.indexOf(from, end, (byte) '\r');
        if (lineEnd < 0) {
            lineEnd = end;
        }
        int len = lineEnd - from;
        // "HTTP/1.1 200 OK": version, a space, three digits, then a space or the end.
        if (len < 12 || !startsWithHttp(b, from) || b.getByte(from + 5) != '1' || b.getByte(from + 6) != '.'
                || (b.getByte(from + 7) != '0' && b.getByte(from + 7) != '1') || b.getByte(from + 8) != ' '
                || !digit(b, from + 9) || !digit(b, from + 10) || !digit(b, from + 11)
                || (len > 12 && b.getByte(from + 12) != ' ')) {
            return error(ErrorKind.BAD_RESPONSE, "bad status line: " + b.toString(from, len, StandardCharsets.US_ASCII));
        }
        status = (b.getByte(from + 9) - '0') * 100 + (b.getByte(from + 10) - '0') * 10 + (b.getByte(from + 11) - '0');
        boolean http10 = b.getByte(from + 7) == '0';
        boolean keepAlive10 = false;
        long contentLength = -1;
        int transferEncodings = 0;
        // The first Transfer-Encoding value other than "chunked", for the error message: [badFrom, badTo).
        int badFrom = -1;
        int badTo = -1;
        int pos = lineEnd + 2;
        while (pos < end) {
            int le = b.indexOf(pos, end, (byte) '\r');
            if (le < 0) {
                le = end;
            }
            int colon = b.indexOf(pos, le, (byte) ':');
            if (colon <= pos) {
                return error(ErrorKind.BAD_RESPONSE, "bad header line: "
                        + b.toString(pos, le - pos, StandardCharsets.US_ASCII));
            }
            int vs = colon + 1;
            int ve = le;
            while (vs < ve && (b.getByte(vs) == ' ' || b.getByte(vs) == '\t')) {
                vs++;
            }
            while (ve > vs && (b.getByte(ve - 1) == ' ' || b.getByte(ve - 1) == '\t')) {
                ve--;
            }
            if (nameIs(b, pos, colon, "content-length")) {
                long cl = 0;
                boolean valid = ve > vs && ve - vs <= 18;
                for (int i = vs; valid && i < ve; i++) {
                    valid = digit(b, i);
                    cl = cl * 10 + (b.getByte(i) - '0');
                }
                if (!valid || (contentLength >= 0 && cl != contentLength)) {
                    return error(ErrorKind.BAD_RESPONSE, "bad or conflicting Content-Length: "
                            + b.toString(vs, ve - vs, StandardCharsets.US_ASCII));
                }
                contentLength = cl;
            } else if (nameIs(b, pos, colon, "transfer-encoding")) {
                // Compared in place; judged below, only when a body follows.
                transferEncodings++;
                if (badFrom < 0 && !nameIs(b, vs, ve, "chunked")) {
                    badFrom = vs;
                    badTo = ve;
                }
            } else if (nameIs(b, pos, colon, "connection")) {
                if (contains(b, vs, ve, "close")) {
                    serverCloses = true;
                }
                if (contains(b, vs, ve, "keep-alive")) {
                    keepAlive10 = true;
                }
            }
            pos = le + 2;
        }
        if (http10 && !keepAlive10) {
            serverCloses = true;
        }
        if (status == 101 && expectStatus == 101) {
            switching = true;
            state = State.BODY_LENGTH;
            remaining = 0;
            return null;
        }
        if (status < 200) {
            return error(ErrorKind.BAD_RESPONSE, "informational status " + status + " not supported");
        }
        if (headRequest || status == 204 || status == 304) {
            // No body follows, whatever the head says about one: its framing headers frame nothing.
            state = State.BODY_LENGTH;
            remaining = 0;
            return null;
        }
        if (transferEncodings > 0) {
            // Only "chunked", once: bench decodes no other coding, and a list or a repeat hides one.
            if (badFrom >= 0 || transferEncodings > 1) {
                return error(ErrorKind.BAD_RESPONSE, "Transfer-Encoding other than a single chunked: " + (badFrom >= 0
                        ? b.toString(badFrom, badTo - badFrom, StandardCharsets.US_ASCII)
                        : transferEncodings + " Transfer-Encoding headers"));
            }
            if (contentLength >= 0) {
                // RFC 9112 6.3: a sender must not send both; a reader that picks one can be smuggled past.
                return error(ErrorKind.BAD_RESPONSE, "both Transfer-Encoding and Content-Length");
            }
            if (http10) {
                return error(ErrorKind.BAD_RESPONSE, "Transfer-Encoding in an HTTP/1.0 response");
            }
            state = State.BODY_CHUNKED;
            chunks.reset();
        } else if (contentLength >= 0) {
            state = State.BODY_LENGTH;
            remaining = contentLength;
        } else {
            state = State.BODY_UNTIL_CLOSE;
            serverCloses = true;
        }
        return null;
    }

    private static boolean digit(ByteBuf b, int i) {
        byte c = b.getByte(i);
        return c >= '0' && c <= '9';
    }

    /** True when {@code [from, to)} holds {@code lower} somewhere, ignoring ASCII case. */
    private static boolean contains(ByteBuf b, int from, int to, String lower) {
        for (int at = from; at + lower.length() <= to; at++) {
            if (nameIs(b, at, at + lower.length(), lower)) {
                return true;
            }
        }
        return false;
    }

    /** True when the bytes in {@code [from, to)} are {@code lower}, ignoring ASCII case. */
    private static boolean nameIs(ByteBuf b, int from, int to, String lower) {
        if (to - from != lower.length()) {
            return false;
        }
        for (int i = 0; i < lower.length(); i++) {
            int c = b.getByte(from + i);
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
