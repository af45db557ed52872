package dev.serverframework.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict check of everything a server sent on one connection: a sequence of complete HTTP/1.1 responses,
 * each with a status line {@code HTTP/1.1 NNN reason}, well-formed header lines, a Date, and exactly the body
 * its framing announces (Content-Length, chunked, or up to the close with {@code Connection: close}); a
 * {@code 100 Continue} may come before a final response; after a response with {@code Connection: close},
 * nothing but the end of the stream; and no partial response at the end. A response with a Content-Length
 * and no body is accepted only where a HEAD request may have been sent, and only when the rest parses so.
 */
final class ResponseStreamCheck {
    /** The statuses the fuzz server may give; a 500 would be a handler failing on what the decoder let through. */
    static final Set<Integer> STATUSES = Set.of(100, 200, 204, 400, 404, 405, 408, 413, 414, 417, 431, 501, 505);

    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 ([1-5][0-9][0-9]) [A-Za-z][ -~]*");
    private static final Pattern FIELD_LINE = Pattern.compile("([!#$%&'*+.^_`|~0-9A-Za-z-]+): ?([ -~\\t]*)");
    private static final Pattern CHUNK_SIZE = Pattern.compile("[0-9a-fA-F]{1,7}");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,9}");

    private final byte[] data;
    private final boolean ended;
    private final boolean headPossible;
    private final List<Integer> statuses = new ArrayList<>();

    private ResponseStreamCheck(byte[] data, boolean ended, boolean headPossible) {
        this.data = data;
        this.ended = ended;
        this.headPossible = headPossible;
    }

    /** The outcome: null error when the stream is well-formed, with the statuses of its responses in order. */
    record Result(String error, List<Integer> statuses) {
    }

    /**
     * Checks what the server sent on one connection.
     *
     * @param ended        the server ended the stream (a clean end of stream) after these bytes
     * @param headPossible a HEAD request may be among what was sent
     */
    static Result check(byte[] data, boolean ended, boolean headPossible) {
        ResponseStreamCheck c = new ResponseStreamCheck(data, ended, headPossible);
        String error = c.responsesFrom(0);
        return new Result(error, List.copyOf(c.statuses));
    }

    /** Parses the responses from {@code pos} to the end; null when they are all well-formed. */
    private String responsesFrom(int pos) {
        if (pos == data.length) {
            return null;
        }
        int eol = lineEnd(pos);
        if (eol < 0) {
            return "incomplete status line at byte " + pos + ": " + show(pos, data.length);
        }
        String statusLine = text(pos, eol);
        Matcher m = STATUS_LINE.matcher(statusLine);
        if (!m.matches()) {
            return "bad status line at byte " + pos + ": " + show(pos, eol);
        }
        int status = Integer.parseInt(m.group(1));
        if (!STATUSES.contains(status)) {
            return "unexpected status: " + statusLine;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        int p = eol + 2;
        while (true) {
            int end = lineEnd(p);
            if (end < 0) {
                return "incomplete head of " + statusLine;
            }
            if (end == p) {
                p += 2;
                break;
            }
            Matcher f = FIELD_LINE.matcher(text(p, end));
            if (!f.matches()) {
                return "bad header line in " + statusLine + ": " + show(p, end);
            }
            headers.computeIfAbsent(f.group(1).toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(f.group(2).trim());
            p = end + 2;
        }
        int mark = statuses.size();
        statuses.add(status);
        String error = bodyAndRest(status, statusLine, headers, p);
        if (error != null) {
            statuses.subList(mark, statuses.size()).clear();
        }
        return error;
    }

    private String bodyAndRest(int status, String statusLine, Map<String, List<String>> headers, int bodyStart) {
        List<String> connection = headers.get("connection");
        boolean close = connection != null && connection.stream().anyMatch(v -> v.equalsIgnoreCase("close"));
        List<String> length = headers.get("content-length");
        List<String> coding = headers.get("transfer-encoding");
        if (status < 200) {
            if (length != null || coding != null || close) {
                return "framing or close on an interim response: " + headers;
            }
            return responsesFrom(bodyStart);
        }
        if (!headers.containsKey("date")) {
            return "no Date in " + statusLine;
        }
        if (length != null && coding != null) {
            return "both Content-Length and Transfer-Encoding in " + statusLine;
        }
        if (coding != null) {
            if (coding.size() != 1 || !coding.get(0).equals("chunked")) {
                return "transfer coding " + coding + " in " + statusLine;
            }
            return chunkedBodyAndRest(statusLine, bodyStart, close);
        }
        if (length != null) {
            if (length.size() != 1 || !DIGITS.matcher(length.get(0)).matches()) {
                return "bad Content-Length " + length + " in " + statusLine;
            }
            int n = Integer.parseInt(length.get(0));
            if (status == 204 || status == 304) {
                return rest(bodyStart, close, statusLine);
            }
            String withBody = bodyStart + n <= data.length ? rest(bodyStart + n, close, statusLine)
                    : "body of " + statusLine + " cut short: " + (data.length - bodyStart) + " of " + n + " bytes";
            if (withBody == null || !headPossible || n == 0) {
                return withBody;
            }
            // The answer to a HEAD request: the length of the body a GET would get, and no body.
            return rest(bodyStart, close, statusLine) == null ? null : withBody;
        }
        if (status == 204 || status == 304) {
            return rest(bodyStart, close, statusLine);
        }
        if (close) {
            // Delimited by the close (a stream to an HTTP/1.0 client): the rest is its body.
            return ended ? null : "a close-delimited body, but the server did not close: " + statusLine;
        }
        if (headPossible) {
            // The answer to a HEAD request for a stream: no length, no body.
            return rest(bodyStart, false, statusLine);
        }
        return "no framing on a response that keeps the connection: " + statusLine;
    }

    private String chunkedBodyAndRest(String statusLine, int from, boolean close) {
        int p = from;
        while (true) {
            int end = lineEnd(p);
            if (end < 0) {
                return "chunked body of " + statusLine + " cut short in a size line";
            }
            String size = text(p, end);
            if (!CHUNK_SIZE.matcher(size).matches()) {
                return "bad chunk size line in " + statusLine + ": " + show(p, end);
            }
            int n = Integer.parseInt(size, 16);
            p = end + 2;
            if (n == 0) {
                break;
            }
            if (p + n + 2 > data.length) {
                return "chunked body of " + statusLine + " cut short in a chunk";
            }
            if (data[p + n] != '\r' || data[p + n + 1] != '\n') {
                return "chunk of " + statusLine + " not followed by CRLF";
            }
            p += n + 2;
        }
        while (true) {
            int end = lineEnd(p);
            if (end < 0) {
                return "chunked body of " + statusLine + " cut short in its trailer";
            }
            boolean empty = end == p;
            p = end + 2;
            if (empty) {
                break;
            }
        }
        return rest(p, close, statusLine);
    }

    /** After a complete response: the end of the stream if it closes, else the next responses. */
    private String rest(int pos, boolean close, String statusLine) {
        if (!close) {
            return responsesFrom(pos);
        }
        if (pos != data.length) {
            return "bytes after " + statusLine + " with Connection: close: " + show(pos, data.length);
        }
        return ended ? null : "no close after " + statusLine + " with Connection: close";
    }

    /** The index of the CR of the first CRLF from {@code from}, or -1. */
    private int lineEnd(int from) {
        for (int i = from; i + 1 < data.length; i++) {
            if (data[i] == '\r' && data[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Bytes for a message: escaped, and at most a few hundred. */
    private String show(int from, int to) {
        return FuzzInputs.escape(Arrays.copyOfRange(data, from, Math.min(to, data.length)), 300);
    }

    private String text(int from, int to) {
        return new String(data, from, Math.min(to, data.length) - from, StandardCharsets.ISO_8859_1);
    }
}
