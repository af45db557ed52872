package dev.serverframework.http.internal;

import dev.serverframework.http.Handler;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;

/**
 * Serves the files of one directory under a URL prefix: content type from the extension, validators
 * (Last-Modified, ETag) and 304, single byte ranges (206/416), a directory's index.html, never a
 * listing, and never anything outside the directory. Thread-safe; runs on the connection's executor.
 */
public final class StaticFileHandler implements Handler {
    private final String prefix;
    private final Path root;

    /**
     * Serves {@code directory} under {@code prefix}; called by the protocol's builder.
     *
     * @throws IllegalArgumentException when the directory does not exist or is not a directory
     */
    public StaticFileHandler(String prefix, Path directory) {
        this.prefix = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        try {
            this.root = directory.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("static directory " + directory + " does not exist or cannot be read", e);
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("static directory " + directory + " is not a directory");
        }
    }

    @Override
    public Response handle(Request request) throws IOException {
        // The router's reading of the target, so an absolute-form target ("http://host/static/...") works too.
        String rawPath = Router.rawPath(request.uri());
        if (rawPath == null) {
            return ErrorResponses.response(HttpResponseStatus.BAD_REQUEST);
        }
        String relative = rawPath.length() > prefix.length() ? rawPath.substring(prefix.length()) : "/";
        if (!isSafe(relative)) {
            return ErrorResponses.response(HttpResponseStatus.BAD_REQUEST);
        }
        String decoded;
        try {
            decoded = URLDecoder.decode(relative.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return ErrorResponses.response(HttpResponseStatus.BAD_REQUEST);
        }
        for (String segment : decoded.split("/")) {
            if (segment.equals("..") || segment.equals(".") || segment.indexOf('\0') >= 0) {
                return ErrorResponses.response(HttpResponseStatus.BAD_REQUEST);
            }
        }
        Path file = root.resolve(decoded.startsWith("/") ? decoded.substring(1) : decoded).normalize();
        if (!file.startsWith(root)) {
            return ErrorResponses.response(HttpResponseStatus.BAD_REQUEST);
        }
        file = realFileInside(file);
        if (file != null && Files.isDirectory(file)) {
            file = realFileInside(file.resolve("index.html"));
        }
        if (file == null || !Files.isRegularFile(file)) {
            return ErrorResponses.response(HttpResponseStatus.NOT_FOUND);
        }
        return serve(request, file);
    }

    /** Rejects what could name something else than the plain path it seems to: encoded dots and slashes. */
    private static boolean isSafe(String rawPath) {
        if (rawPath.indexOf('\\') >= 0 || rawPath.indexOf('\0') >= 0) {
            return false;
        }
        String lower = rawPath.toLowerCase(Locale.ROOT);
        return !lower.contains("%2e") && !lower.contains("%2f") && !lower.contains("%5c") && !lower.contains("%00");
    }

    /** The real path of {@code file} if it exists and, with symbolic links followed, stays under the root. */
    private Path realFileInside(Path file) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.exists(file)) {
            return null;
        }
        try {
            Path real = file.toRealPath();
            return real.startsWith(root) ? real : null;
        } catch (IOException e) {
            return null;
        }
    }

    private Response serve(Request request, Path file) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        long size = attrs.size();
        long modified = attrs.lastModifiedTime().toMillis();
        String etag = "W/\"" + Long.toHexString(size) + "-" + Long.toHexString(modified) + "\"";
        String lastModified = HttpDate.format(modified);
        HttpHeaders h = request.headers();

        if (notModified(h, etag, modified)) {
            return Response.status(HttpResponseStatus.NOT_MODIFIED)
                    .header(HttpHeaderNames.ETAG, etag)
                    .header(HttpHeaderNames.LAST_MODIFIED, lastModified);
        }
        String range = h.get(HttpHeaderNames.RANGE);
        long[] span = range == null || !rangeApplies(h.get(HttpHeaderNames.IF_RANGE), etag, modified) ? null
                : parseRange(range, size);
        if (span == UNSATISFIABLE) {
            return ErrorResponses.response(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    .header(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
        }
        // The size read with the validators, so that the length sent matches the ETag.
        Response r = (span == null ? Response.file(file, 0, size)
                : Response.file(file, span[0], span[1] - span[0] + 1).withStatus(206))
                .header(HttpHeaderNames.ETAG, etag)
                .header(HttpHeaderNames.LAST_MODIFIED, lastModified)
                .header(HttpHeaderNames.ACCEPT_RANGES, "bytes");
        if (span != null) {
            r.header(HttpHeaderNames.CONTENT_RANGE, "bytes " + span[0] + "-" + span[1] + "/" + size);
        }
        return r;
    }

    private static boolean notModified(HttpHeaders h, String etag, long modified) {
        String inm = h.get(HttpHeaderNames.IF_NONE_MATCH);
        if (inm != null) {
            for (String tag : inm.split(",")) {
                String t = tag.trim();
                if (t.equals("*") || weakEquals(t, etag)) {
                    return true;
                }
            }
            return false;
        }
        long ims = HttpDate.parse(h.get(HttpHeaderNames.IF_MODIFIED_SINCE));
        return ims >= 0 && modified / 1000 <= ims / 1000;
    }

    private static boolean rangeApplies(String ifRange, String etag, long modified) {
        if (ifRange == null) {
            return true;
        }
        if (ifRange.startsWith("\"") || ifRange.startsWith("W/")) {
            return ifRange.trim().equals(etag) && !etag.startsWith("W/");
        }
        long date = HttpDate.parse(ifRange);
        return date >= 0 && modified / 1000 <= date / 1000;
    }

    private static boolean weakEquals(String a, String b) {
        return stripWeak(a).equals(stripWeak(b));
    }

    private static String stripWeak(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }

    static final long[] UNSATISFIABLE = new long[0];

    /**
     * Parses a single byte range against the file size: {@code [first, last]}, {@link #UNSATISFIABLE},
     * or {@code null} when the header is to be ignored (malformed or several ranges: serve it whole).
     */
    static long[] parseRange(String header, long size) {
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        String spec = h.substring(6).trim();
        if (spec.contains(",")) {
            return null;
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = spec.substring(0, dash).trim();
            String b = spec.substring(dash + 1).trim();
            long first;
            long last;
            if (a.isEmpty()) {
                if (b.isEmpty()) {
                    return null;
                }
                long suffix = Long.parseLong(b);
                if (suffix <= 0) {
                    return UNSATISFIABLE;
                }
                first = Math.max(0, size - suffix);
                last = size - 1;
            } else {
                first = Long.parseLong(a);
                last = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
                if (!b.isEmpty() && Long.parseLong(b) < first) {
                    return null;
                }
            }
            if (first < 0) {
                return null;
            }
            if (first >= size || size == 0) {
                return UNSATISFIABLE;
            }
            return new long[] {first, last};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
