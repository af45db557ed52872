package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.http.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * Puts an exchange's {@link Response} on the wire with exact framing: {@code Content-Length} for bytes and
 * files (headers only for HEAD), chunked for streams (close-delimited for HTTP/1.0), plus Date, Server and
 * the Connection header that {@link KeepAlive}'s decision calls for; then closes the connection if that
 * decision says so. One per protocol, immutable; writes on the connection's executor.
 */
public final class ResponseWriter {
    private static final Logger log = LoggerFactory.getLogger(ResponseWriter.class);

    /** Bodies up to this size are copied into the head's buffer; larger ones are written as they are. */
    private static final int COPIED_BODY_MAX = 4096;
    private static final Response.Body EMPTY = new Response.Empty();
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final AsciiString serverHeader;
    private final AsciiString keepAliveHeader;

    /**
     * A writer adding this {@code Server} header (null: none) and, to HTTP/1.0 keep-alive answers,
     * {@code Keep-Alive: timeout=N} when {@code keepAliveSeconds > 0}.
     */
    public ResponseWriter(String serverHeader, long keepAliveSeconds) {
        this.serverHeader = serverHeader == null ? null : AsciiString.cached(serverHeader);
        this.keepAliveHeader = keepAliveSeconds > 0 ? AsciiString.cached("timeout=" + keepAliveSeconds) : null;
    }

    /** The {@code Server} header value, or null for none. */
    public AsciiString serverHeader() {
        return serverHeader;
    }

    /** Writes the exchange's response, then closes the connection if {@link KeepAlive} decided so. */
    public void write(Exchange ex) {
        write(ex, ex.response());
    }

    private void write(Exchange ex, Response res) {
        Connection c = ex.connection();
        boolean http10 = ex.http10();
        boolean head = ex.head();
        boolean close = ex.closes();
        HttpResponseStatus status = res.status();
        Response.Body body = res.body();
        if (!hasBody(status) || status.code() == HttpResponseStatus.RESET_CONTENT.code()) {
            // 1xx, 204, 205 and 304 never carry content (RFC 9110 15): a body given anyway is dropped, or the
            // client would read it as the start of the next response.
            discard(body);
            body = EMPTY;
        }
        ByteBuf content = body instanceof Response.Buffer b ? b.content() : null;
        // A small body shares the head's buffer: one write, one buffer for the transport.
        boolean copyContent = content != null && !head && content.readableBytes() <= COPIED_BODY_MAX;
        ResponseHead h = ResponseHead.start(c.alloc(), res, close || http10,
                copyContent ? content.readableBytes() : 0);
        if (serverHeader != null && !h.serverSet()) {
            h.header(HttpHeaderNames.SERVER, serverHeader);
        }
        if (close) {
            h.header(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            h.header(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            if (keepAliveHeader != null) {
                h.header(HttpHeaderNames.KEEP_ALIVE, keepAliveHeader);
            }
        }
        if (content != null) {
            h.contentLength(content.readableBytes());
            ByteBuf out = h.end();
            if (head) {
                content.release();
                c.write(out);
            } else if (copyContent) {
                out.writeBytes(content);
                content.release();
                c.write(out);
            } else {
                c.write(out);
                c.write(content);
            }
        } else if (body instanceof Response.FileRange file) {
            long length = file.length() >= 0 ? file.length() : remainingSize(file);
            if (length < 0) {
                // Nothing is out yet: a framed 500 keeps the connection usable, where cutting it would not.
                h.buffer().release();
                log.warn("Connection {}: response file {} cannot be read; answering 500", c.id(), file.file());
                write(ex, ErrorResponses.response(HttpResponseStatus.INTERNAL_SERVER_ERROR));
                return;
            }
            h.contentLength(length);
            if (!writeFile(c, h.end(), file, length, head)) {
                return;
            }
        } else if (body instanceof Response.Stream stream) {
            // Not for HEAD: its response has no body, so no chunked framing either.
            if (!http10 && !head) {
                h.header(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            c.write(h.end());
            if (head) {
                closeQuietly(stream);
            } else if (http10) {
                c.write(stream.input());
            } else {
                c.write(new ChunkedBody(stream.input()));
            }
        } else {
            if (hasBody(status)) {
                h.contentLength(0);
            }
            c.write(h.end());
        }
        if (close) {
            c.close();
        }
    }

    /**
     * Writes only the head of the response that switches the connection to another protocol: its status,
     * the route's headers, Date and Server. What follows is the next protocol's: after a {@code 101} its
     * frames; after a {@code 2xx} a body that the next protocol frames as chunks for an HTTP/1.1 client
     * (announced here with {@code Transfer-Encoding: chunked}) and delimits by the close for an HTTP/1.0
     * one (announced with {@code Connection: close}). On the connection's executor.
     */
    public void writeHead(Exchange ex) {
        Response res = ex.response();
        discard(res.body());
        int code = res.status().code();
        boolean body = code >= 200 && code < 300;
        ResponseHead h = ResponseHead.start(ex.connection().alloc(), res, body && ex.http10(), 0);
        if (serverHeader != null && !h.serverSet()) {
            h.header(HttpHeaderNames.SERVER, serverHeader);
        }
        if (body && ex.http10()) {
            h.header(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (body) {
            h.header(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        ex.connection().write(h.end());
    }

    /**
     * Writes the interim {@code 100 Continue} a request's head asked for, when its turn comes (see
     * {@link PipelineOrder#continueExpected}). On the connection's executor.
     */
    public void writeContinue(Connection c) {
        c.write(Unpooled.wrappedBuffer(CONTINUE));
    }

    /** The file's size from the range's offset on, or -1 when it cannot be read. */
    private static long remainingSize(Response.FileRange file) {
        try {
            return Math.max(0, Files.size(file.file()) - file.offset());
        } catch (IOException e) {
            return -1;
        }
    }

    /** Sends the head and the file's bytes; false when the file vanished and the connection was cut. */
    private static boolean writeFile(Connection c, ByteBuf head, Response.FileRange file, long length,
                                     boolean headOnly) {
        c.write(head);
        if (!headOnly && length > 0) {
            try {
                c.sendFile(file.file(), file.offset(), length);
            } catch (UncheckedIOException e) {
                // The head is out already: the only honest thing left is to cut the connection.
                log.warn("Connection {}: file {} vanished while being sent; closing", c.id(), file.file());
                c.abort();
                return false;
            }
        }
        return true;
    }

    private static boolean hasBody(HttpResponseStatus status) {
        int code = status.code();
        return code >= 200 && code != 204 && code != 304;
    }

    /** Frees a body that will not be sent. */
    private static void discard(Response.Body body) {
        if (body instanceof Response.Buffer buffer) {
            buffer.content().release();
        } else if (body instanceof Response.Stream stream) {
            closeQuietly(stream);
        }
    }

    private static void closeQuietly(Response.Stream stream) {
        try {
            stream.input().close();
        } catch (Exception e) {
            log.debug("Closing an unsent response stream failed", e);
        }
    }
}
