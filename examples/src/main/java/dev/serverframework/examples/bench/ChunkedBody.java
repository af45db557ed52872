package dev.serverframework.examples.bench;

import io.netty.buffer.ByteBuf;

/**
 * The framing of one {@code Transfer-Encoding: chunked} body (RFC 9112 7.1), read as strictly as
 * {@link ResponseParser} reads a {@code Content-Length}: a chunk size of hex digits only (no sign, no
 * leading whitespace, no {@code 0x}) up to {@link #MAX_CHUNK_SIZE}, optional chunk extensions after a
 * {@code ;} (blanks allowed before it, RFC 9112 7.1.1's BWS), exactly CRLF after the size line and after each
 * chunk's data, the last chunk ({@code 0}), trailer fields, and the empty line that ends the body. It frames;
 * it does not validate what it skips: extensions are only kept to visible characters, blanks and obs-text
 * (their names and values are not checked against the token and quoted-string grammar), and trailer fields
 * only need a non-empty name without whitespace and a colon (the name is not checked against the token
 * grammar). It reads framing bytes and says when data is due; the parser consumes the data itself. Not
 * thread-safe: one per {@link ResponseParser}, on its connection's event loop.
 */
final class ChunkedBody {
    /** What {@link #advance} found. */
    enum Step {
        /** The buffer is used up before the next data or the end of the body. */
        NEED_MORE,
        /** {@link #dataRemaining()} bytes of chunk data are due, and the buffer holds at least one. */
        DATA,
        /** The body ended with its trailer's empty line; the bytes after it are left in the buffer. */
        DONE
    }

    /** The framing is not chunked encoding as RFC 9112 defines it; the message says where. */
    static final class MalformedException extends Exception {
        MalformedException(String message) {
            super(message, null, false, false); // a result the caller reports, not a fault to trace
        }
    }

    /**
     * The largest chunk this tool accepts (HTTP sets no limit): no HTTP server writes a larger one, and the
     * sum of sizes cannot overflow.
     */
    static final long MAX_CHUNK_SIZE = Integer.MAX_VALUE;
    /** The most hex digits of a size, leading zeros included (2^31 - 1 needs 8). */
    private static final int MAX_SIZE_DIGITS = 16;
    /** The most bytes of one size line's extensions, and of all trailer fields together. */
    private static final int MAX_LINE = 16 * 1024;

    private enum State { SIZE, SIZE_BLANK, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER, TRAILER_LF, DONE }

    private State state = State.SIZE;
    private long size;
    private int digits;
    private long remaining;
    /** Bytes of the current size line's extensions, or of the trailer so far. */
    private int lineBytes;
    /** In the trailer: bytes of the current field line; a colon seen in it. */
    private int fieldBytes;
    private boolean fieldHasColon;

    /** Starts a new body. */
    void reset() {
        state = State.SIZE;
        size = 0;
        digits = 0;
        remaining = 0;
        lineBytes = 0;
        fieldBytes = 0;
        fieldHasColon = false;
    }

    /** Chunk data still due in the current chunk. */
    long dataRemaining() {
        return remaining;
    }

    /** The caller took {@code n} bytes of chunk data (at most {@link #dataRemaining()}). */
    void consumed(int n) {
        remaining -= n;
        if (remaining == 0) {
            state = State.DATA_CR;
        }
    }

    /**
     * Reads framing bytes of {@code in} up to the next chunk data, the end of the body, or the end of
     * {@code in}.
     *
     * @throws MalformedException at the first byte that is not valid chunked framing
     */
    Step advance(ByteBuf in) throws MalformedException {
        while (true) {
            if (state == State.DONE) {
                return Step.DONE;
            }
            if (state == State.DATA) {
                return in.isReadable() ? Step.DATA : Step.NEED_MORE;
            }
            if (!in.isReadable()) {
                return Step.NEED_MORE;
            }
            byte b = in.readByte();
            switch (state) {
                case SIZE -> size(b);
                case SIZE_BLANK -> sizeBlank(b);
                case EXTENSION -> extension(b);
                case SIZE_LF -> {
                    expect(b, '\n', "LF after the chunk size line's CR");
                    if (size == 0) {
                        state = State.TRAILER;
                        lineBytes = 0;
                    } else {
                        remaining = size;
                        state = State.DATA;
                    }
                }
                case DATA_CR -> {
                    if (b != '\r') { // the message is built only here, not once per chunk
                        throw new MalformedException("chunk data not followed by CRLF: after the " + size
                                + " bytes of its size came " + describe(b));
                    }
                    state = State.DATA_LF;
                }
                case DATA_LF -> {
                    expect(b, '\n', "LF after the chunk data's CR");
                    state = State.SIZE;
                    size = 0;
                    digits = 0;
                }
                case TRAILER -> trailer(b);
                case TRAILER_LF -> {
                    expect(b, '\n', "LF after the trailer's CR");
                    if (fieldBytes == 0) {
                        state = State.DONE;
                    } else {
                        state = State.TRAILER;
                        fieldBytes = 0;
                        fieldHasColon = false;
                    }
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
    }

    private void size(byte b) throws MalformedException {
        int hex = hexValue(b);
        if (hex >= 0) {
            if (++digits > MAX_SIZE_DIGITS) {
                throw new MalformedException("chunk size longer than " + MAX_SIZE_DIGITS + " hex digits");
            }
            size = size * 16 + hex;
            if (size > MAX_CHUNK_SIZE) {
                throw new MalformedException("chunk size over " + MAX_CHUNK_SIZE + " bytes, the most this tool "
                        + "accepts");
            }
            return;
        }
        if (digits == 0) {
            throw new MalformedException("chunk size does not start with a hex digit: " + describe(b));
        }
        if (b == ';') {
            state = State.EXTENSION;
            lineBytes = 0;
        } else if (b == '\r') {
            state = State.SIZE_LF;
        } else if (b == ' ' || b == '\t') {
            state = State.SIZE_BLANK;
            lineBytes = 1;
        } else {
            throw new MalformedException("chunk size followed by " + describe(b) + ", not ';' or CRLF");
        }
    }

    /** Blanks after the size (BWS, RFC 9112 7.1.1): allowed only before a chunk extension's ';'. */
    private void sizeBlank(byte b) throws MalformedException {
        if (b == ';') {
            state = State.EXTENSION;
        } else if (b != ' ' && b != '\t') {
            throw new MalformedException("whitespace after the chunk size followed by " + describe(b)
                    + ", not ';'");
        } else if (++lineBytes > MAX_LINE) {
            throw new MalformedException("chunk extensions longer than " + MAX_LINE + " bytes");
        }
    }

    /** The value of an ASCII hex digit, or -1. */
    private static int hexValue(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    /** Extensions are not interpreted, only kept within visible characters, spaces and tabs, and bounded. */
    private void extension(byte b) throws MalformedException {
        if (b == '\r') {
            state = State.SIZE_LF;
            return;
        }
        if (++lineBytes > MAX_LINE) {
            throw new MalformedException("chunk extensions longer than " + MAX_LINE + " bytes");
        }
        if (!visibleOrBlank(b) && b >= 0) { // obs-text may stand in a quoted extension value
            throw new MalformedException("chunk extension holds " + describe(b));
        }
    }

    /** Trailer fields as in a head: {@code name: value} lines, then an empty line. */
    private void trailer(byte b) throws MalformedException {
        if (++lineBytes > MAX_LINE) {
            throw new MalformedException("trailer longer than " + MAX_LINE + " bytes");
        }
        if (b == '\r') {
            if (fieldBytes > 0 && !fieldHasColon) {
                throw new MalformedException("trailer field without a colon");
            }
            state = State.TRAILER_LF;
            return;
        }
        // obs-text (bytes over 0x7f) only in a value, as RFC 9110 5.5 allows
        if (!visibleOrBlank(b) && !(b < 0 && fieldHasColon)) {
            throw new MalformedException("trailer holds " + describe(b));
        }
        if (b == ':' && !fieldHasColon) {
            if (fieldBytes == 0) {
                throw new MalformedException("trailer field without a name");
            }
            fieldHasColon = true;
        } else if (!fieldHasColon && (b == ' ' || b == '\t')) {
            throw new MalformedException("whitespace in a trailer field name");
        }
        fieldBytes++;
    }

    /** {@code what} is a constant: nothing is built unless the byte is wrong. */
    private static void expect(byte b, char wanted, String what) throws MalformedException {
        if (b != wanted) {
            throw new MalformedException("expected " + what + ", got " + describe(b));
        }
    }

    private static boolean visibleOrBlank(byte b) {
        return (b >= 0x21 && b <= 0x7e) || b == ' ' || b == '\t';
    }

    private static String describe(byte b) {
        return b >= 0x21 && b <= 0x7e ? "'" + (char) b + "'" : String.format("byte 0x%02x", b & 0xff);
    }
}
