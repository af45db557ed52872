package dev.serverframework.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The inputs of {@link HttpFuzzTest}: valid requests from a small corpus (GET, HEAD, POST with
 * Content-Length, chunked POST, HTTP/1.0 keep-alive, 100-continue, pipelined pairs), then mutated: byte
 * flips, insertions of bytes and of HTTP tokens, deletions, truncation, duplicated header lines, odd chunk
 * sizes and chunk extensions. Everything comes from the {@link Random} given, so a seed replays an input.
 */
final class FuzzInputs {
    /** Bytes worth putting anywhere in a request: separators, line ends, controls, non-ASCII. */
    private static final byte[] SPECIAL_BYTES = {' ', '\t', '\r', '\n', ':', ';', '=', '"', ',', '/', '0', '9',
            'a', 'F', 'x', '-', '+', 0, 0x01, 0x7f, (byte) 0x80, (byte) 0xff};

    /** Fragments worth inserting: framing headers, line ends, chunk syntax, versions. */
    private static final String[] TOKENS = {" ", "\t", "\r\n", "\n", "\r", "\r\n\r\n", "\r\n ", "\r\n\t",
            "Host: other\r\n", "Content-Length: 3\r\n", "Content-Length: 99999999\r\n", "Content-Length: -1\r\n",
            "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: identity\r\n",
            "Expect: 100-continue\r\n", "Expect: nothing\r\n", "Connection: close\r\n", "Connection: keep-alive\r\n",
            "Connection: upgrade\r\nUpgrade: h2c\r\n", ";ext", ";a=\"b c\"", ";=", "0\r\n\r\n", "5\r\nhello\r\n",
            "ffffffff", "-1", "0x5", " HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "%00", "%2e%2e/", "/../", "?a=b&c", "#frag", "*", "X-" + "y".repeat(300) + ": z\r\n"};

    private FuzzInputs() {
    }

    /** One fuzz input: the bytes to send and what the checks need to know of them. */
    record Input(byte[] bytes, boolean mutated, String description) {
        /** Whether a HEAD request may be among the bytes, whose response has a Content-Length but no body. */
        boolean mayHoldHead() {
            return new String(bytes, StandardCharsets.ISO_8859_1).contains("HEAD");
        }
    }

    /** A corpus entry, mutated unless the dice say to keep one in ten as it is. */
    static Input next(Random r) {
        boolean oddChunks = r.nextInt(8) == 0;
        List<String> kinds = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int requests = r.nextInt(4) == 0 ? 2 : 1;
        for (int i = 0; i < requests; i++) {
            kinds.add(validRequest(r, out, oddChunks));
        }
        byte[] bytes = out.toByteArray();
        StringBuilder description = new StringBuilder(String.join("+", kinds));
        if (oddChunks) {
            description.append(", odd chunks");
        }
        int mutations = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(3);
        for (int i = 0; i < mutations; i++) {
            int kind = r.nextInt(7);
            bytes = switch (kind) {
                case 0 -> flip(bytes, r);
                case 1 -> insertBytes(bytes, r);
                case 2 -> insertToken(bytes, r);
                case 3 -> delete(bytes, r);
                case 4 -> duplicateHeader(bytes, r);
                case 5 -> truncate(bytes, r);
                default -> overLimit(bytes, r);
            };
            description.append(", ").append(new String[] {"flip", "insert bytes", "insert token", "delete",
                    "duplicate header", "truncate", "over a limit"}[kind]);
        }
        // Odd chunk sizes are invalid input even before any mutation.
        return new Input(bytes, mutations > 0 || oddChunks, description.toString());
    }

    /** Appends one valid request; returns its kind. */
    private static String validRequest(Random r, ByteArrayOutputStream out, boolean oddChunks) {
        int kind = r.nextInt(10);
        StringBuilder head = new StringBuilder();
        byte[] body = new byte[0];
        String name;
        switch (kind) {
            case 0 -> {
                name = "GET";
                head.append("GET ").append(pick(r, "/", "/async", "/missing", "/?q=1")).append(" HTTP/1.1\r\n");
            }
            case 1 -> {
                name = "HEAD";
                head.append("HEAD ").append(pick(r, "/", "/stream", "/missing")).append(" HTTP/1.1\r\n");
            }
            case 2, 3 -> {
                name = "POST Content-Length";
                body = text(r, r.nextInt(40));
                head.append("POST /echo HTTP/1.1\r\nContent-Length: ").append(body.length).append("\r\n");
            }
            case 4 -> {
                name = "POST chunked";
                head.append("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n");
                body = chunked(r, oddChunks);
            }
            case 5 -> {
                name = "HTTP/1.0 keep-alive";
                head.append("GET / HTTP/1.0\r\nConnection: keep-alive\r\n");
            }
            case 6 -> {
                name = "stream";
                head.append("GET /stream HTTP/1.1\r\n");
            }
            case 7 -> {
                name = "100-continue";
                body = text(r, 1 + r.nextInt(20));
                head.append("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: ").append(body.length)
                        .append("\r\n");
            }
            case 8 -> {
                name = "OPTIONS *";
                head.append("OPTIONS * HTTP/1.1\r\n");
            }
            default -> {
                name = "GET with headers";
                head.append("GET /?a=").append(r.nextInt(1000)).append(" HTTP/1.1\r\n")
                        .append("Accept: */*\r\nUser-Agent: fuzz/1.0\r\nX-Request: ").append(r.nextInt()).append("\r\n");
            }
        }
        if (kind != 5) {
            // Host in a random place among the fields.
            int at = head.indexOf("\r\n") + 2;
            head.insert(r.nextBoolean() ? at : head.length(), "Host: localhost\r\n");
        }
        head.append("\r\n");
        out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(body);
        return name;
    }

    /** A chunked body: a few chunks, sizes in any case and with leading zeros, extensions, maybe trailers. */
    private static byte[] chunked(Random r, boolean odd) {
        StringBuilder b = new StringBuilder();
        int chunks = 1 + r.nextInt(4);
        for (int i = 0; i < chunks; i++) {
            int size = 1 + r.nextInt(20);
            String hex = Integer.toHexString(size);
            hex = r.nextBoolean() ? hex.toUpperCase() : hex;
            if (r.nextInt(4) == 0) {
                hex = "00" + hex;
            }
            if (odd) {
                hex = pick(r, hex + " ", " " + hex, "0x" + hex, "+" + hex, "-" + hex, "ffffffffffffffff",
                        Integer.toHexString(size + 1), hex + ";", hex + ";=", hex + ";a=\"b", hex + "\t;a");
            }
            b.append(hex);
            if (r.nextInt(3) == 0) {
                b.append(pick(r, ";ext", ";a=b", ";a=\"quoted value\"", ";a=b;c", " ;a=b"));
            }
            b.append("\r\n").append(new String(text(r, size), StandardCharsets.ISO_8859_1)).append("\r\n");
        }
        b.append(r.nextInt(5) == 0 ? "0;last=1" : "0").append("\r\n");
        if (r.nextInt(4) == 0) {
            b.append("X-Trailer: ").append(r.nextInt(100)).append("\r\n");
        }
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] flip(byte[] in, Random r) {
        if (in.length == 0) {
            return in;
        }
        byte[] out = in.clone();
        int at = r.nextInt(out.length);
        out[at] = r.nextBoolean() ? (byte) (out[at] ^ (1 << r.nextInt(8))) : SPECIAL_BYTES[r.nextInt(SPECIAL_BYTES.length)];
        return out;
    }

    private static byte[] insertBytes(byte[] in, Random r) {
        byte[] extra = new byte[1 + r.nextInt(4)];
        for (int i = 0; i < extra.length; i++) {
            extra[i] = r.nextBoolean() ? SPECIAL_BYTES[r.nextInt(SPECIAL_BYTES.length)] : (byte) r.nextInt(256);
        }
        return insert(in, r.nextInt(in.length + 1), extra);
    }

    private static byte[] insertToken(byte[] in, Random r) {
        return insert(in, r.nextInt(in.length + 1), pick(r, TOKENS).getBytes(StandardCharsets.ISO_8859_1));
    }

    private static byte[] delete(byte[] in, Random r) {
        if (in.length == 0) {
            return in;
        }
        int from = r.nextInt(in.length);
        int to = Math.min(in.length, from + 1 + r.nextInt(r.nextBoolean() ? 2 : 12));
        byte[] out = new byte[in.length - (to - from)];
        System.arraycopy(in, 0, out, 0, from);
        System.arraycopy(in, to, out, from, in.length - to);
        return out;
    }

    private static byte[] truncate(byte[] in, Random r) {
        return in.length == 0 ? in : Arrays.copyOf(in, r.nextInt(in.length));
    }

    /** Repeats one of the first head's field lines, as it is or with another value. */
    private static byte[] duplicateHeader(byte[] in, Random r) {
        String s = new String(in, StandardCharsets.ISO_8859_1);
        int headEnd = s.indexOf("\r\n\r\n");
        int firstLineEnd = s.indexOf("\r\n");
        if (headEnd < 0 || firstLineEnd == headEnd) {
            return insertToken(in, r);
        }
        String[] fields = s.substring(firstLineEnd + 2, headEnd).split("\r\n");
        String field = fields[r.nextInt(fields.length)];
        if (r.nextBoolean()) {
            int colon = field.indexOf(':');
            field = (colon < 0 ? field : field.substring(0, colon + 1)) + " " + pick(r, "0", "1", "x", "chunked", "close",
                    "100-continue", "", "5, 5");
        }
        int at = firstLineEnd + 2 + (r.nextBoolean() ? 0 : headEnd - firstLineEnd);
        return insert(in, Math.min(at, headEnd + 2), (field + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * Takes the first request over one of the fuzz server's limits: a long target (414), a long field
     * (431), or a body announced over the limit (413).
     */
    private static byte[] overLimit(byte[] in, Random r) {
        String s = new String(in, StandardCharsets.ISO_8859_1);
        int lineEnd = s.indexOf("\r\n");
        int targetStart = s.indexOf(' ') + 1;
        if (lineEnd < 0 || targetStart <= 0 || targetStart > lineEnd) {
            return insertToken(in, r);
        }
        return switch (r.nextInt(3)) {
            case 0 -> insert(in, targetStart + 1, "a".repeat(300).getBytes(StandardCharsets.ISO_8859_1));
            case 1 -> insert(in, lineEnd + 2, ("X-Long: " + "v".repeat(1100) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            default -> insert(in, lineEnd + 2, "Content-Length: 5000\r\n".getBytes(StandardCharsets.ISO_8859_1));
        };
    }

    private static byte[] insert(byte[] in, int at, byte[] extra) {
        byte[] out = new byte[in.length + extra.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(in, at, out, at + extra.length, in.length - at);
        return out;
    }

    private static byte[] text(Random r, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) ('a' + r.nextInt(26));
        }
        return b;
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... options) {
        return options[r.nextInt(options.length)];
    }

    /** The bytes as text with CR, LF, tabs and non-printable bytes escaped, for a failure message. */
    static String escape(byte[] bytes, int max) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < bytes.length && i < max; i++) {
            int b = bytes[i] & 0xff;
            switch (b) {
                case '\r' -> s.append("\\r");
                case '\n' -> s.append("\\n");
                case '\t' -> s.append("\\t");
                case '\\' -> s.append("\\\\");
                default -> s.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b));
            }
        }
        if (bytes.length > max) {
            s.append("... (").append(bytes.length).append(" bytes)");
        }
        return s.toString();
    }
}
