package dev.serverframework.examples.kv;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/**
 * Builds RESP2 replies straight into buffers (no reply objects, no encoder handler): the reply to a
 * command is one small buffer the connection writes. Stateless and thread-safe.
 *
 * <p>Constant replies are shared, unreleasable direct buffers; callers get a {@link ByteBuf#duplicate()}
 * so each write has its own indices. Every other method returns a new buffer the caller owns (writing it
 * hands that ownership to the connection).
 */
final class Resp {
    private static final byte[] MESSAGE = "message".getBytes(StandardCharsets.US_ASCII);
    /** Payloads longer than this are wrapped rather than copied into the encoded message. */
    static final int SHARE_PAYLOAD_OVER = 4096;
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
    private static final byte[] CRLF = {'\r', '\n'};
    /** Integer replies up to this value are shared constants (counts, 0/1 results). */
    private static final int SMALL_INTEGERS = 64;
    private static final ByteBuf[] INTEGERS = new ByteBuf[SMALL_INTEGERS];

    static final ByteBuf OK = constant("+OK\r\n");
    static final ByteBuf PONG = constant("+PONG\r\n");
    static final ByteBuf NULL_BULK = constant("$-1\r\n");
    static final ByteBuf EMPTY_ARRAY = constant("*0\r\n");
    static final ByteBuf MINUS_ONE = constant(":-1\r\n");
    static final ByteBuf MINUS_TWO = constant(":-2\r\n");
    static final ByteBuf NOT_INTEGER = constant("-ERR value is not an integer or out of range\r\n");
    static final ByteBuf SYNTAX_ERROR = constant("-ERR syntax error\r\n");
    static final ByteBuf OVERFLOW = constant("-ERR increment or decrement would overflow\r\n");

    static {
        for (int i = 0; i < SMALL_INTEGERS; i++) {
            INTEGERS[i] = constant(":" + i + "\r\n");
        }
    }

    private Resp() {
    }

    private static ByteBuf constant(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes));
    }

    /** A shared constant reply, ready to write. */
    static ByteBuf shared(ByteBuf constant) {
        return constant.duplicate();
    }

    /** {@code :n}. */
    static ByteBuf integer(long n) {
        if (n >= 0 && n < SMALL_INTEGERS) {
            return INTEGERS[(int) n].duplicate();
        }
        ByteBuf b = ALLOC.directBuffer(24);
        b.writeByte(':');
        writeDecimal(b, n);
        return b.writeBytes(CRLF);
    }

    /** {@code $len value} or the null bulk string for {@code null}. */
    static ByteBuf bulk(byte[] value) {
        if (value == null) {
            return NULL_BULK.duplicate();
        }
        ByteBuf b = ALLOC.directBuffer(value.length + 16);
        writeBulk(b, value);
        return b;
    }

    /** An array of bulk strings (nulls become null bulk strings), e.g. MGET's reply. */
    static ByteBuf bulkArray(byte[][] values) {
        int size = 16;
        for (byte[] v : values) {
            size += (v == null ? 5 : v.length + 16);
        }
        ByteBuf b = ALLOC.directBuffer(size);
        writeArrayHeader(b, values.length);
        for (byte[] v : values) {
            if (v == null) {
                b.writeBytes(NULL_BULK, NULL_BULK.readerIndex(), NULL_BULK.readableBytes());
            } else {
                writeBulk(b, v);
            }
        }
        return b;
    }

    /**
     * An error reply {@code -message}; carriage returns and line feeds in the message become spaces, as
     * Redis does, so user input quoted in it cannot break the framing.
     */
    static ByteBuf error(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf b = ALLOC.directBuffer(bytes.length + 3);
        b.writeByte('-');
        for (byte x : bytes) {
            b.writeByte(x == '\r' || x == '\n' ? ' ' : x);
        }
        return b.writeBytes(CRLF);
    }

    /** {@code +text} for a simple string without CR or LF. */
    static ByteBuf simple(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf b = ALLOC.directBuffer(bytes.length + 3);
        return b.writeByte('+').writeBytes(bytes).writeBytes(CRLF);
    }

    /** A pub/sub event: {@code *3 $kind $channel :count} (subscribe / unsubscribe confirmations). */
    static ByteBuf subscription(String kind, byte[] channel, long count) {
        ByteBuf b = ALLOC.directBuffer(48 + (channel == null ? 0 : channel.length));
        writeArrayHeader(b, 3);
        writeBulk(b, kind.getBytes(StandardCharsets.US_ASCII));
        if (channel == null) {
            b.writeBytes(NULL_BULK, NULL_BULK.readerIndex(), NULL_BULK.readableBytes());
        } else {
            writeBulk(b, channel);
        }
        b.writeByte(':');
        writeDecimal(b, count);
        return b.writeBytes(CRLF);
    }

    /**
     * A published message as its subscribers get it, {@code *3 $message $channel $payload}, to be shared by
     * them ({@link EncodedMessages}). A small one (up to {@value #SHARE_PAYLOAD_OVER} bytes) is one direct
     * buffer: one contiguous write. A larger one wraps the payload's bytes behind a header, so that a big
     * message is not copied at all. The payload must not change afterwards (a published message's never does).
     */
    static ByteBuf message(byte[] channel, byte[] payload) {
        if (payload.length > SHARE_PAYLOAD_OVER) {
            ByteBuf header = ALLOC.directBuffer(40 + channel.length);
            writeArrayHeader(header, 3);
            writeBulk(header, MESSAGE);
            writeBulk(header, channel);
            header.writeByte('$');
            writeDecimal(header, payload.length);
            header.writeBytes(CRLF);
            return Unpooled.wrappedBuffer(header, Unpooled.wrappedBuffer(payload), Unpooled.wrappedBuffer(CRLF));
        }
        ByteBuf b = ALLOC.directBuffer(48 + channel.length + payload.length);
        writeArrayHeader(b, 3);
        writeBulk(b, MESSAGE);
        writeBulk(b, channel);
        writeBulk(b, payload);
        return b;
    }

    /** An array of bulk strings given as text (e.g. CONFIG GET's name/value pairs, subscriber PING). */
    static ByteBuf textArray(String... values) {
        byte[][] bytes = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = values[i].getBytes(StandardCharsets.ISO_8859_1);
        }
        return bulkArray(bytes);
    }

    static void writeArrayHeader(ByteBuf b, int n) {
        b.writeByte('*');
        writeDecimal(b, n);
        b.writeBytes(CRLF);
    }

    static void writeBulk(ByteBuf b, byte[] value) {
        b.writeByte('$');
        writeDecimal(b, value.length);
        b.writeBytes(CRLF);
        b.writeBytes(value);
        b.writeBytes(CRLF);
    }

    /** Writes a long in decimal ASCII without making a String. */
    static void writeDecimal(ByteBuf b, long n) {
        if (n == Long.MIN_VALUE) {
            b.writeCharSequence("-9223372036854775808", StandardCharsets.US_ASCII);
            return;
        }
        if (n < 0) {
            b.writeByte('-');
            n = -n;
        }
        if (n < 10) {
            b.writeByte((int) ('0' + n));
            return;
        }
        int digits = 0;
        for (long t = n; t > 0; t /= 10) {
            digits++;
        }
        int at = b.writerIndex() + digits;
        b.ensureWritable(digits);
        for (int i = 1; i <= digits; i++) {
            b.setByte(at - i, (int) ('0' + n % 10));
            n /= 10;
        }
        b.writerIndex(at);
    }

    /**
     * Parses a whole byte array as a signed decimal long the way Redis's {@code string2ll} does: no
     * sign other than a leading '-', no spaces, no leading zeros.
     *
     * @return the value, or {@code null} when it is not such an integer or out of range
     */
    static Long parseLong(byte[] s) {
        return parseLong(s, 0, s.length);
    }

    static Long parseLong(byte[] s, int from, int to) {
        int len = to - from;
        if (len <= 0 || len > 20) {
            return null;
        }
        if (len == 1 && s[from] == '0') {
            return 0L;
        }
        int i = from;
        boolean negative = false;
        if (s[i] == '-') {
            negative = true;
            i++;
            if (i == to) {
                return null;
            }
        }
        if (s[i] < '1' || s[i] > '9') {
            return null;
        }
        // Accumulate negatively: the negative range is one larger, so Long.MIN_VALUE parses too.
        long v = 0;
        for (; i < to; i++) {
            int d = s[i] - '0';
            if (d < 0 || d > 9) {
                return null;
            }
            if (v < (Long.MIN_VALUE + d) / 10) {
                return null;
            }
            v = v * 10 - d;
        }
        if (negative) {
            return v;
        }
        return v == Long.MIN_VALUE ? null : -v;
    }
}
