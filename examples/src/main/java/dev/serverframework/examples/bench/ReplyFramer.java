package dev.serverframework.examples.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Finds where one reply ends in the bytes a connection has received since it sent its request, strictly: for
 * HTTP/1.x a status line, headers and a {@code Content-Length} body; for RESP one complete reply of any type.
 * Used by {@link StopProbe}, which sends one request at a time, so a reply is always at the start of the bytes
 * and anything after it is an error. Not thread-safe: one instance per connection.
 */
abstract class ReplyFramer {
    /** The largest reply accepted; a probe has no use for more, and a server sending more is misbehaving. */
    static final int MAX_REPLY = 16 * 1024 * 1024;

    /** The reply cannot be read as the protocol says, or is not the one expected. */
    static final class BadReply extends Exception {
        BadReply(String message) {
            super(message, null, false, false);
        }
    }

    /** Forgets the previous reply (called when the next request is sent). */
    abstract void reset();

    /**
     * Looks at the {@code n} bytes received so far for the current request.
     *
     * @return the length of the complete reply at the start of {@code buf}, or 0 when more bytes are needed
     * @throws BadReply when the bytes cannot be (the start of) a valid reply
     */
    abstract int complete(byte[] buf, int n) throws BadReply;

    /** True when the complete reply said the server will close the connection (HTTP {@code Connection: close}). */
    boolean saysClose() {
        return false;
    }

    /** For a complete reply that is valid but not the one asked for (RESP {@code -ERR ...}): what it was; else null. */
    String unexpected() {
        return null;
    }

    /** HTTP/1.x responses to GET; {@code expectStatus} 0 accepts any final status, {@code expectBody} null any body. */
    static ReplyFramer http(int expectStatus, String expectBody) {
        return new Http(expectStatus, expectBody == null ? null : expectBody.getBytes(StandardCharsets.UTF_8));
    }

    /** RESP2/RESP3 replies: a reply other than {@code +PONG} is an answer, noted by {@link #unexpected()}. */
    static ReplyFramer resp() {
        return new Resp();
    }

    private static final class Http extends ReplyFramer {
        private static final int MAX_HEAD = 16 * 1024;

        private final int expectStatus;
        private final byte[] expectBody;
        /** The length of the head including its blank line, once found; 0 before. */
        private int headLength;
        /** Where the search for the blank line resumes. */
        private int scanned;
        private int contentLength;
        private boolean close;

        Http(int expectStatus, byte[] expectBody) {
            this.expectStatus = expectStatus;
            this.expectBody = expectBody;
        }

        @Override
        void reset() {
            headLength = 0;
            scanned = 0;
            contentLength = 0;
            close = false;
        }

        @Override
        boolean saysClose() {
            return close;
        }

        @Override
        int complete(byte[] buf, int n) throws BadReply {
            if (headLength == 0) {
                int prefix = Math.min(n, 5);
                if (!Arrays.equals(buf, 0, prefix, "HTTP/".getBytes(StandardCharsets.US_ASCII), 0, prefix)) {
                    throw new BadReply("reply does not start with HTTP/: " + printable(buf, 0, Math.min(n, 40)));
                }
                for (int i = Math.max(3, scanned); i < n; i++) {
                    if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
                        headLength = i + 1;
                        break;
                    }
                }
                scanned = n;
                if (headLength == 0) {
                    if (n > MAX_HEAD) {
                        throw new BadReply("response head longer than " + MAX_HEAD + " bytes");
                    }
                    return 0;
                }
                parseHead(new String(buf, 0, headLength - 4, StandardCharsets.ISO_8859_1));
            }
            int total = headLength + contentLength;
            if (n < total) {
                return 0;
            }
            if (expectBody != null && !Arrays.equals(buf, headLength, total, expectBody, 0, expectBody.length)) {
                throw new BadReply("body differs from --expect-body: " + printable(buf, headLength,
                        Math.min(contentLength, 40)));
            }
            return total;
        }

        private void parseHead(String head) throws BadReply {
            String[] lines = head.split("\r\n", -1);
            String statusLine = lines[0];
            // "HTTP/1.1 200 OK": version, a space, three digits, then a space or the end.
            if (!statusLine.matches("HTTP/1\\.[01] [0-9]{3}( .*)?")) {
                throw new BadReply("bad status line: " + statusLine);
            }
            int status = Integer.parseInt(statusLine.substring(9, 12));
            boolean http10 = statusLine.charAt(7) == '0';
            boolean closeToken = false;
            boolean keepAliveToken = false;
            long length = -1;
            for (int i = 1; i < lines.length; i++) {
                String line = lines[i];
                int colon = line.indexOf(':');
                if (colon <= 0 || line.charAt(colon - 1) == ' ' || line.charAt(colon - 1) == '\t'
                        || Character.isWhitespace(line.charAt(0))) {
                    throw new BadReply("bad header line: " + line);
                }
                String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> {
                        if (!value.matches("[0-9]{1,10}")) {
                            throw new BadReply("bad Content-Length: " + value);
                        }
                        long v = Long.parseLong(value);
                        if (length >= 0 && v != length) {
                            throw new BadReply("conflicting Content-Length headers: " + length + " and " + v);
                        }
                        length = v;
                    }
                    case "transfer-encoding" -> throw new BadReply("Transfer-Encoding " + value
                            + " is not supported by the probe (it needs Content-Length framing)");
                    case "connection" -> {
                        for (String token : value.split(",")) {
                            String t = token.trim();
                            closeToken |= t.equalsIgnoreCase("close");
                            keepAliveToken |= t.equalsIgnoreCase("keep-alive");
                        }
                    }
                    default -> {
                    }
                }
            }
            if (status < 200) {
                throw new BadReply("informational status " + status + " is not supported by the probe");
            }
            if (expectStatus != 0 && status != expectStatus) {
                throw new BadReply("status " + status + ", expected " + expectStatus);
            }
            if (status == 204 || status == 304) {
                length = 0;
            } else if (length < 0) {
                throw new BadReply("status " + status + " without Content-Length (a body framed by the end of "
                        + "the connection cannot be told from a truncated one)");
            }
            if (length > MAX_REPLY) {
                throw new BadReply("Content-Length " + length + " is more than the probe accepts (" + MAX_REPLY + ")");
            }
            contentLength = (int) length;
            // HTTP/1.0 closes unless it says keep-alive; HTTP/1.1 keeps the connection unless it says close.
            close = closeToken || (http10 && !keepAliveToken);
        }
    }

    private static final class Resp extends ReplyFramer {
        private static final int MAX_DEPTH = 32;
        private static final int MAX_LINE = 64 * 1024;

        private String unexpected;

        @Override
        void reset() {
            unexpected = null;
        }

        @Override
        String unexpected() {
            return unexpected;
        }

        @Override
        int complete(byte[] buf, int n) throws BadReply {
            int end = value(buf, 0, n, 0);
            if (end > 0) {
                boolean pong = end == 7 && Arrays.equals(buf, 0, 7, "+PONG\r\n".getBytes(StandardCharsets.US_ASCII),
                        0, 7);
                unexpected = pong ? null : printable(buf, 0, Math.min(end, 60));
            }
            return end;
        }

        /** The end of the value starting at {@code at}, or 0 when it is not complete yet. */
        private static int value(byte[] buf, int at, int n, int depth) throws BadReply {
            if (at >= n) {
                return 0;
            }
            if (depth > MAX_DEPTH) {
                throw new BadReply("RESP aggregates nested deeper than " + MAX_DEPTH);
            }
            byte type = buf[at];
            if ("+-:,#_($=!*%~>|".indexOf(type) < 0) {
                // Said at the first byte, not once a whole line has come: a non-RESP server may send no CRLF.
                throw new BadReply("not a RESP reply: " + printable(buf, at, Math.min(n - at, 40)));
            }
            int lineEnd = lineEnd(buf, at, n);
            if (lineEnd == 0) {
                return 0;
            }
            switch (type) {
                case '+', '-', ':', ',', '#', '_', '(' -> {
                    return lineEnd;
                }
                case '$', '=', '!' -> {
                    long len = number(buf, at + 1, lineEnd - 2);
                    if (len < 0) {
                        if (len != -1) {
                            throw new BadReply("bad RESP bulk length " + len);
                        }
                        return lineEnd;
                    }
                    if (len > MAX_REPLY) {
                        throw new BadReply("RESP bulk of " + len + " bytes is more than the probe accepts");
                    }
                    long end = lineEnd + len + 2;
                    if (end > n) {
                        return 0;
                    }
                    if (buf[(int) end - 2] != '\r' || buf[(int) end - 1] != '\n') {
                        throw new BadReply("RESP bulk not followed by CRLF");
                    }
                    return (int) end;
                }
                case '*', '%', '~', '>', '|' -> {
                    long count = number(buf, at + 1, lineEnd - 2);
                    if (count < 0) {
                        if (count != -1) {
                            throw new BadReply("bad RESP aggregate length " + count);
                        }
                        return lineEnd;
                    }
                    long elements = type == '%' || type == '|' ? count * 2 : count;
                    int pos = lineEnd;
                    for (long i = 0; i < elements; i++) {
                        pos = value(buf, pos, n, depth + 1);
                        if (pos == 0) {
                            return 0;
                        }
                    }
                    return pos;
                }
                default -> throw new BadReply("not a RESP reply: " + printable(buf, at, Math.min(n - at, 40)));
            }
        }

        /** The index after the CRLF ending the line at {@code at}, or 0 when it has not arrived. */
        private static int lineEnd(byte[] buf, int at, int n) throws BadReply {
            for (int i = at; i < n; i++) {
                if (buf[i] == '\n') {
                    if (i == at || buf[i - 1] != '\r') {
                        throw new BadReply("RESP line ends with LF without CR");
                    }
                    return i + 1;
                }
                if (i - at > MAX_LINE) {
                    throw new BadReply("RESP line longer than " + MAX_LINE + " bytes");
                }
            }
            return 0;
        }

        private static long number(byte[] buf, int from, int to) throws BadReply {
            String s = new String(buf, from, to - from, StandardCharsets.US_ASCII);
            if (!s.matches("-?[0-9]{1,12}")) {
                throw new BadReply("bad RESP length: " + s);
            }
            return Long.parseLong(s);
        }
    }

    /** {@code len} bytes from {@code from} as text, control characters escaped, for a message a person reads. */
    static String printable(byte[] buf, int from, int len) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < Math.min(from + len, buf.length); i++) {
            int c = buf[i] & 0xff;
            switch (c) {
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        b.append(String.format(Locale.ROOT, "\\x%02x", c));
                    } else {
                        b.append((char) c);
                    }
                }
            }
        }
        return b.toString();
    }
}
