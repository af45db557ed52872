package dev.serverframework.http.internal;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte-level grammar of HTTP/1.1 requests (RFC 9110/9112) that {@link RequestDecoder} parses with: the
 * character classes of tokens, targets and field values, hex digits, the versions and methods this server
 * knows, the well-known field names (as Netty's shared constants, so that decoding them allocates nothing),
 * digits, chunk extensions and quoted strings. Stateless; any thread.
 */
final class HttpSyntax {
    static final boolean[] TOKEN = new boolean[256];
    static final boolean[] TARGET = new boolean[256];
    static final boolean[] CONTROL = new boolean[256];
    static final byte[] HEX = new byte[256];
    private static final HttpMethod[] METHODS = {
        HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.HEAD, HttpMethod.DELETE, HttpMethod.PATCH,
        HttpMethod.OPTIONS, HttpMethod.TRACE, HttpMethod.CONNECT,
    };
    /** Every lower-case {@link HttpHeaderNames} constant, by length, and their bytes. */
    private static final AsciiString[][] NAMES;
    private static final byte[][][] NAME_BYTES;

    static {
        for (int c = '0'; c <= '9'; c++) {
            TOKEN[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TOKEN[c] = true;
            TOKEN[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TOKEN[c] = true;
        }
        for (int c = 0; c < 256; c++) {
            // Visible ASCII, and bytes over 0x7F as nginx and Netty accept them (obs-text).
            TARGET[c] = c > 0x20 && c != 0x7F;
            CONTROL[c] = c < 0x20 && c != '\t' || c == 0x7F;
            HEX[c] = (byte) (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1);
        }
        List<AsciiString> names = new ArrayList<>();
        int longest = 0;
        for (Field f : HttpHeaderNames.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == AsciiString.class) {
                AsciiString name = constant(f);
                // The case-insensitive comparison below holds for names of [a-z0-9-] only.
                if (name.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
                    names.add(name);
                    longest = Math.max(longest, name.length());
                }
            }
        }
        NAMES = new AsciiString[longest + 1][];
        NAME_BYTES = new byte[longest + 1][][];
        for (int len = 1; len <= longest; len++) {
            int length = len;
            AsciiString[] same = names.stream().filter(n -> n.length() == length).toArray(AsciiString[]::new);
            if (same.length > 0) {
                NAMES[len] = same;
                NAME_BYTES[len] = new byte[same.length][];
                for (int i = 0; i < same.length; i++) {
                    NAME_BYTES[len][i] = same[i].toByteArray();
                }
            }
        }
    }

    private static AsciiString constant(Field f) {
        try {
            return (AsciiString) f.get(null);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What is wrong with a field line whose name ends at {@code n} without a colon. */
    static String fieldNameProblem(byte[] b, int n, int len) {
        int colon = n;
        while (colon < len && b[colon] != ':') {
            colon++;
        }
        if (colon == len) {
            return "field line without a colon";
        }
        if (n == 0) {
            return "empty field name";
        }
        boolean whitespace = true;
        for (int i = n; i < colon; i++) {
            whitespace &= b[i] == ' ' || b[i] == '\t';
        }
        return whitespace ? "whitespace between a field name and its colon" : "field name is not a token";
    }

    static HttpMethod method(byte[] b, int len) {
        for (HttpMethod known : METHODS) {
            AsciiString name = known.asciiName();
            if (name.length() == len && sameBytes(b, name.array(), name.arrayOffset(), len)) {
                return known;
            }
        }
        return new HttpMethod(new String(b, 0, len, StandardCharsets.ISO_8859_1));
    }

    private static boolean sameBytes(byte[] b, byte[] other, int offset, int len) {
        for (int i = 0; i < len; i++) {
            if (b[i] != other[offset + i]) {
                return false;
            }
        }
        return true;
    }

    /** HTTP/1.1 or HTTP/1.0 in {@code b[from..to)}, or null. */
    static HttpVersion version(byte[] b, int from, int to) {
        if (to - from != 8 || b[from] != 'H' || b[from + 1] != 'T' || b[from + 2] != 'T' || b[from + 3] != 'P'
                || b[from + 4] != '/' || b[from + 5] != '1' || b[from + 6] != '.') {
            return null;
        }
        return b[from + 7] == '1' ? HttpVersion.HTTP_1_1 : b[from + 7] == '0' ? HttpVersion.HTTP_1_0 : null;
    }

    /** Why {@code b[from..to)} is no version this server speaks: 505 when well-formed, else 400. */
    static DecoderException versionFailure(byte[] b, int from, int to) {
        String text = new String(b, from, to - from, StandardCharsets.ISO_8859_1);
        // RFC 9112 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, the name case-sensitive.
        if (text.length() == 8 && text.startsWith("HTTP/") && isDigit(text.charAt(5)) && text.charAt(6) == '.'
                && isDigit(text.charAt(7))) {
            return new RequestDecoder.UnsupportedVersionException(text);
        }
        int slash = text.indexOf('/');
        return new RequestDecoder.BadRequestException(slash > 0 && !text.startsWith("HTTP/")
                ? "protocol is not HTTP: " + text : "malformed HTTP version: " + text);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** The well-known name constant for the token {@code b[0..len)}, or null. */
    static AsciiString knownName(byte[] b, int len) {
        if (len >= NAMES.length || NAMES[len] == null) {
            return null;
        }
        byte[][] candidates = NAME_BYTES[len];
        outer:
        for (int c = 0; c < candidates.length; c++) {
            byte[] name = candidates[c];
            // A token byte ORed with 0x20 is its lower case for letters; for a name of [a-z0-9-] that is exact.
            for (int i = 0; i < len; i++) {
                if ((b[i] | 0x20) != name[i]) {
                    continue outer;
                }
            }
            return NAMES[len][c];
        }
        return null;
    }

    /** Whether {@code b[from..to)} equals {@code lower}, ignoring the case of letters. */
    static boolean equalsLowerCase(byte[] b, int from, int to, String lower) {
        if (to - from != lower.length()) {
            return false;
        }
        for (int i = from; i < to; i++) {
            int c = b[i];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != lower.charAt(i - from)) {
                return false;
            }
        }
        return true;
    }

    /** The decimal number in {@code b[from..to)}, or -1 when it is empty, not only digits, or overflows. */
    static long digits(byte[] b, int from, int to) {
        if (from == to) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9 || value > (Long.MAX_VALUE - d) / 10) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value;
    }

    /**
     * Whether {@code b[from..to)}, after the chunk size, is a valid chunk-ext (RFC 9112 7.1.1):
     * {@code *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )}, then optional whitespace.
     */
    static boolean chunkExtensions(byte[] b, int from, int to) {
        int i = skipWhitespace(b, from, to);
        while (i < to) {
            if (b[i] != ';') {
                return false;
            }
            i = skipWhitespace(b, i + 1, to);
            int name = i;
            while (i < to && TOKEN[b[i] & 0xFF]) {
                i++;
            }
            if (i == name) {
                return false;
            }
            i = skipWhitespace(b, i, to);
            if (i < to && b[i] == '=') {
                i = skipWhitespace(b, i + 1, to);
                if (i < to && b[i] == '"') {
                    i = quotedStringEnd(b, i + 1, to);
                    if (i < 0) {
                        return false;
                    }
                } else {
                    int value = i;
                    while (i < to && TOKEN[b[i] & 0xFF]) {
                        i++;
                    }
                    if (i == value) {
                        return false;
                    }
                }
                i = skipWhitespace(b, i, to);
            }
        }
        return true;
    }

    /** The index after the closing quote of a quoted-string whose content starts at {@code i}, or -1. */
    private static int quotedStringEnd(byte[] b, int i, int to) {
        while (i < to) {
            int c = b[i] & 0xFF;
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                if (i + 1 == to || CONTROL[b[i + 1] & 0xFF]) {
                    return -1;
                }
                i += 2;
            } else if (CONTROL[c]) {
                return -1;
            } else {
                i++;
            }
        }
        return -1;
    }

    private static int skipWhitespace(byte[] b, int i, int to) {
        while (i < to && (b[i] == ' ' || b[i] == '\t')) {
            i++;
        }
        return i;
    }

    private HttpSyntax() {
    }
}
