package dev.serverframework.http.internal;

import io.netty.util.AsciiString;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The value of the {@code Date} header, formatted at most once a second and shared by every response of
 * that second. Thread-safe: a stale read only costs one more formatting.
 */
public final class HttpDate {
    private static final DateTimeFormatter RFC_1123 =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private record Stamp(long second, AsciiString value) {
    }

    private static volatile Stamp current = new Stamp(-1, AsciiString.EMPTY_STRING);

    private HttpDate() {
    }

    /** The header value for now. */
    public static AsciiString now() {
        long second = System.currentTimeMillis() / 1000;
        Stamp s = current;
        if (s.second != second) {
            s = new Stamp(second, new AsciiString(RFC_1123.format(Instant.ofEpochSecond(second))));
            current = s;
        }
        return s.value;
    }

    /** Formats a time (e.g. a file's Last-Modified) the way HTTP dates are written, to the second. */
    public static String format(long epochMillis) {
        return RFC_1123.format(Instant.ofEpochMilli(epochMillis - epochMillis % 1000));
    }

    /** Parses an HTTP date; returns epoch milliseconds, or -1 when it does not parse. */
    public static long parse(String value) {
        if (value == null) {
            return -1;
        }
        try {
            return Instant.from(RFC_1123.parse(value.trim())).toEpochMilli();
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
