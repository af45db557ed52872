package dev.serverframework.http;

import dev.serverframework.http.internal.MimeTypes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedStream;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * What a handler answers: a status, headers and a body of bytes, text, a {@link ByteBuf}, a file or a
 * chunked stream. The framework adds {@code Content-Length} (or chunked framing), {@code Date},
 * {@code Server} and {@code Connection}. Build it on one thread (the handler's) and return it; it is not
 * thread-safe. The framework writes it on the connection's executor.
 */
public final class Response {
    /**
     * What a response carries, as {@link #body()} shows it: one of {@link Empty}, {@link Buffer},
     * {@link FileRange} or {@link Stream}. Made by the factories of {@link Response}.
     */
    public sealed interface Body permits Empty, Buffer, FileRange, Stream {
    }

    /** No body: {@code Content-Length: 0} where the status allows a body. */
    public record Empty() implements Body {
    }

    /** A body in a buffer, sent with its length; the response owns one reference to it. */
    public record Buffer(ByteBuf content) implements Body {
    }

    /**
     * A body read from a file, {@code length} bytes from {@code offset} ({@code -1}: to the end of the file
     * when the response is written), sent zero-copy where the transport allows.
     */
    public record FileRange(Path file, long offset, long length) implements Body {
    }

    /** A body produced piece by piece, sent with chunked framing (close-delimited to HTTP/1.0 clients). */
    public record Stream(ChunkedInput<ByteBuf> input) implements Body {
    }

    private static final Empty EMPTY = new Empty();

    private final HttpResponseStatus status;
    private final Body body;
    /** The content type a factory was given, kept apart until the headers are made. */
    private CharSequence contentType;
    /**
     * Made on the first {@link #header} or {@link #headers()}: most responses carry only a content type,
     * and a header map per response is the larger part of what a small answer costs.
     */
    private HttpHeaders headers;

    private Response(HttpResponseStatus status, Body body) {
        this.status = status;
        this.body = body;
    }

    private Response(HttpResponseStatus status, Body body, CharSequence contentType) {
        this.status = status;
        this.body = body;
        if (contentType != null) {
            this.contentType = validValue(contentType);
        }
    }

    /** The check a header map makes on set, for the content type kept apart from it. */
    private static CharSequence validValue(CharSequence value) {
        int bad = HttpHeaderValidationUtil.validateValidHeaderValue(value);
        if (bad >= 0) {
            throw new IllegalArgumentException("a header value must not contain control characters other than"
                    + " HTAB, got one at index " + bad + " of the content type");
        }
        return value;
    }

    /** 200 with a UTF-8 {@code text/plain} body. */
    public static Response text(String text) {
        return bytes(text.getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8");
    }

    /** 200 with a UTF-8 {@code text/html} body. */
    public static Response html(String html) {
        return bytes(html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8");
    }

    /** 200 with a UTF-8 {@code application/json} body (the text is sent as given). */
    public static Response json(String json) {
        return bytes(json.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    /** 200 with these bytes and content type. */
    public static Response bytes(byte[] body, String contentType) {
        return buffer(Unpooled.wrappedBuffer(body), contentType);
    }

    /** 200 with this buffer (the response takes over one reference) and content type. */
    public static Response buffer(ByteBuf body, String contentType) {
        return new Response(HttpResponseStatus.OK, new Buffer(Objects.requireNonNull(body, "body")), contentType);
    }

    /** 200 with the whole file, sent zero-copy on plain connections; content type from its extension. */
    public static Response file(Path file) {
        return new Response(HttpResponseStatus.OK, new FileRange(file, 0, -1), MimeTypes.of(file));
    }

    /**
     * 200 with {@code length} bytes of the file from {@code offset} (a byte range of it), sent zero-copy on
     * plain connections; content type from its extension.
     */
    public static Response file(Path file, long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("file range must not be negative, got offset " + offset
                    + " and length " + length);
        }
        return new Response(HttpResponseStatus.OK, new FileRange(file, offset, length), MimeTypes.of(file));
    }

    /** 200 with a body read from {@code in} and sent with chunked framing; the stream is closed at the end. */
    public static Response stream(InputStream in, String contentType) {
        return stream(new ChunkedStream(in), contentType);
    }

    /** 200 with a body produced by a Netty {@link ChunkedInput}, sent with chunked framing. */
    public static Response stream(ChunkedInput<ByteBuf> input, String contentType) {
        return new Response(HttpResponseStatus.OK, new Stream(Objects.requireNonNull(input, "input")), contentType);
    }

    /** An empty response with this status. */
    public static Response status(int code) {
        return new Response(HttpResponseStatus.valueOf(code), EMPTY);
    }

    /** An empty response with this status. */
    public static Response status(HttpResponseStatus status) {
        return new Response(Objects.requireNonNull(status, "status"), EMPTY);
    }

    /**
     * A response like this one with another status: a copy of the headers, and the same body, which the
     * copy takes over (send one of the two, never both). This response is left unchanged.
     */
    public Response withStatus(int code) {
        Response copy = new Response(HttpResponseStatus.valueOf(code), body);
        copy.contentType = contentType;
        if (headers != null) {
            copy.headers = new DefaultHttpHeaders().set(headers);
        }
        return copy;
    }

    /** Sets a header (replacing any values). */
    public Response header(CharSequence name, Object value) {
        headers().set(name, value);
        return this;
    }

    /** The status. */
    public HttpResponseStatus status() {
        return status;
    }

    /** The headers set so far (the framework adds its own when sending). */
    public HttpHeaders headers() {
        if (headers == null) {
            headers = new DefaultHttpHeaders();
            if (contentType != null) {
                headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
                contentType = null;
            }
        }
        return headers;
    }

    /**
     * Calls {@code action} with each header set so far, name and value, in the order set; cheaper than
     * {@link #headers()} for a response that only has a content type. On the thread that owns the response.
     */
    public void forEachHeader(BiConsumer<CharSequence, CharSequence> action) {
        if (contentType != null) {
            action.accept(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        if (headers != null) {
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
                Map.Entry<CharSequence, CharSequence> e = it.next();
                action.accept(e.getKey(), e.getValue());
            }
        }
    }

    /** The body, as the framework will write it. */
    public Body body() {
        return body;
    }
}
