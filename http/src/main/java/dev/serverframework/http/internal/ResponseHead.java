package dev.serverframework.http.internal;

import dev.serverframework.http.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * Encodes a response's status line and header block straight into a pooled buffer, the work Netty's
 * {@code HttpResponseEncoder} does after a header map has been copied: here the standard status lines are
 * bytes made once, {@code Date} is bytes made once a second ({@link HttpDate}), and the framework's own
 * headers are written as they are decided, with nothing built in between. The framing headers a handler
 * may have set ({@code Content-Length}, {@code Transfer-Encoding}, {@code Date}, and {@code Connection} and
 * {@code Keep-Alive} when the framework decides them) are left out in favour of the framework's. One per
 * write; used on the connection's executor.
 */
final class ResponseHead implements BiConsumer<CharSequence, CharSequence> {
    private static final byte[][] STATUS_LINES = new byte[600][];
    private static final short CRLF = ('\r' << 8) | '\n';
    private static final short COLON_SPACE = (':' << 8) | ' ';

    static {
        for (int code = 100; code < STATUS_LINES.length; code++) {
            HttpResponseStatus standard = HttpResponseStatus.valueOf(code);
            // Only Netty's constants: for another code valueOf makes a new status each time.
            if (standard == HttpResponseStatus.valueOf(code)) {
                STATUS_LINES[code] = statusLine(standard);
            }
        }
    }

    private final ByteBuf buf;
    /** The framework writes Connection (and Keep-Alive) itself: a handler's are left out. */
    private final boolean connectionDecided;
    private boolean serverSet;

    private ResponseHead(ByteBuf buf, boolean connectionDecided) {
        this.buf = buf;
        this.connectionDecided = connectionDecided;
    }

    /**
     * A buffer holding the status line and the handler's headers, except the framing ones, with room for
     * {@code extra} more bytes; the caller adds the framework's headers with {@link #header} and ends the
     * block with {@link #end}.
     *
     * @param connectionDecided the framework writes Connection itself (a close, or an HTTP/1.0 keep-alive)
     * @return the head's encoder; {@link #buffer()} is the buffer, {@link #serverSet()} tells whether the
     *         handler gave a {@code Server} header
     */
    static ResponseHead start(ByteBufAllocator alloc, Response res, boolean connectionDecided, int extra) {
        ResponseHead head = new ResponseHead(alloc.buffer(256 + extra), connectionDecided);
        HttpResponseStatus status = res.status();
        int code = status.code();
        byte[] line = code >= 0 && code < STATUS_LINES.length && STATUS_LINES[code] != null
                && (status == HttpResponseStatus.valueOf(code)
                    || HttpResponseStatus.valueOf(code).reasonPhrase().contentEquals(status.reasonPhrase()))
                ? STATUS_LINES[code] : statusLine(status);
        head.buf.writeBytes(line);
        res.forEachHeader(head);
        head.header(HttpHeaderNames.DATE, HttpDate.now());
        return head;
    }

    /** Takes one of the handler's headers, unless the framework writes that one itself. */
    @Override
    public void accept(CharSequence name, CharSequence value) {
        if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONTENT_LENGTH)
                || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING)
                || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.DATE)
                || connectionDecided && (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONNECTION)
                        || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.KEEP_ALIVE))) {
            return;
        }
        if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.SERVER)) {
            serverSet = true;
        }
        header(name, value);
    }

    /** Whether the handler set a {@code Server} header of its own. */
    boolean serverSet() {
        return serverSet;
    }

    /** Writes one header line. */
    void header(CharSequence name, CharSequence value) {
        int length = name.length() + value.length() + 4;
        buf.ensureWritable(length);
        int at = buf.writerIndex();
        at += write(at, name);
        buf.setShort(at, COLON_SPACE);
        at += 2;
        at += write(at, value);
        buf.setShort(at, CRLF);
        buf.writerIndex(at + 2);
    }

    /** Writes a {@code Content-Length} line. */
    void contentLength(long length) {
        // Digits written in place: a String per response for a number is garbage on the hot path.
        int digits = 1;
        for (long rest = length / 10; rest > 0; rest /= 10) {
            digits++;
        }
        AsciiString name = HttpHeaderNames.CONTENT_LENGTH;
        buf.ensureWritable(name.length() + digits + 4);
        int at = buf.writerIndex();
        at += write(at, name);
        buf.setShort(at, COLON_SPACE);
        at += 2;
        long rest = length;
        for (int i = digits - 1; i >= 0; i--) {
            buf.setByte(at + i, (int) ('0' + rest % 10));
            rest /= 10;
        }
        at += digits;
        buf.setShort(at, CRLF);
        buf.writerIndex(at + 2);
    }

    /** Ends the header block; returns the buffer. */
    ByteBuf end() {
        buf.writeShort(CRLF);
        return buf;
    }

    /** The buffer written so far. */
    ByteBuf buffer() {
        return buf;
    }

    private int write(int at, CharSequence s) {
        if (s instanceof AsciiString a) {
            ByteBufUtil.copy(a, 0, buf, at, a.length());
            return a.length();
        }
        // As Netty's encoder: one byte per char, whatever is beyond Latin-1 becoming '?'.
        return buf.setCharSequence(at, s, StandardCharsets.ISO_8859_1);
    }

    private static byte[] statusLine(HttpResponseStatus status) {
        return ("HTTP/1.1 " + status.code() + " " + status.reasonPhrase() + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }
}
