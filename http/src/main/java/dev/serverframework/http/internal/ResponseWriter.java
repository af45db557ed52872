package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.http.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * Puts an exchange's {@link Response} on the wire with exact framing: {@code Content-Length} for bytes and
 * files (headers only for HEAD), chunked for streams (close-delimited for HTTP/1.0), plus Date, Server and
 * the Connection header that {@link KeepAlive}'s decision calls for; then closes the connection if that
 * decision says so. One per protocol, immutable; writes on the connection's executor.
 */
public final class ResponseWriter {
    private static final Logger log = LoggerFactory.getLogger(ResponseWriter.class);

    private static final HttpHeadersFactory WIRE_HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

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
        // A copy without Netty's per-character validation: the user's headers were validated when set
        // on the Response, and the ones the framework adds below are known to be valid.
        HttpHeaders h = WIRE_HEADERS.newHeaders().add(res.headers());
        HttpResponseStatus status = res.status();
        Response.Body body = res.body();
        h.set(HttpHeaderNames.DATE, HttpDate.now());
        if (serverHeader != null && !h.contains(HttpHeaderNames.SERVER)) {
            h.set(HttpHeaderNames.SERVER, serverHeader);
        }
        if (close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            if (keepAliveHeader != null) {
                h.set(HttpHeaderNames.KEEP_ALIVE, keepAliveHeader);
            }
        }
        if (body instanceof Response.Buffer buffer) {
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, buffer.content().readableBytes());
            if (head) {
                buffer.content().release();
                c.write(full(status, h, Unpooled.EMPTY_BUFFER));
            } else {
                c.write(full(status, h, buffer.content()));
            }
        } else if (body instanceof Response.FileRange file) {
            long length = file.length() >= 0 ? file.length() : remainingSize(file);
            if (length < 0) {
                // Nothing is out yet: a framed 500 keeps the connection usable, where cutting it would not.
                log.warn("Connection {}: response file {} cannot be read; answering 500", c.id(), file.file());
                write(ex, ErrorResponses.response(HttpResponseStatus.INTERNAL_SERVER_ERROR));
                return;
            }
            writeFile(c, status, h, file, length, head);
        } else if (body instanceof Response.Stream stream) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            // Not for HEAD: the encoder would then frame the empty end as a last chunk ("0\r\n\r\n"),
            // body bytes a HEAD response must not have, which the client would read as the next response.
            if (!http10 && !head) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            c.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h));
            ChannelFuture sent;
            if (head) {
                closeQuietly(stream);
                sent = c.write(LastHttpContent.EMPTY_LAST_CONTENT);
            } else if (http10) {
                sent = c.write(stream.input());
            } else {
                sent = c.write(new HttpChunkedInput(stream.input()));
            }
            if (close) {
                // The protocol's chunked writer holds what the transport has not taken yet, where the
                // framework's close-after-writes does not see it: closing now would cut the body short.
                sent.addListener(f -> c.close());
                return;
            }
        } else {
            if (hasBody(status)) {
                h.setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
            c.write(full(status, h, Unpooled.EMPTY_BUFFER));
        }
        if (close) {
            c.close();
        }
    }

    /**
     * Writes the interim {@code 100 Continue} a request's head asked for, when its turn comes (see
     * {@link PipelineOrder#continueExpected}). On the connection's executor.
     */
    public void writeContinue(Connection c) {
        c.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
    }

    /** The file's size from the range's offset on, or -1 when it cannot be read. */
    private static long remainingSize(Response.FileRange file) {
        try {
            return Math.max(0, Files.size(file.file()) - file.offset());
        } catch (IOException e) {
            return -1;
        }
    }

    private static void writeFile(Connection c, HttpResponseStatus status, HttpHeaders h, Response.FileRange file,
                                  long length, boolean head) {
        h.set(HttpHeaderNames.CONTENT_LENGTH, length);
        c.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h));
        if (!head && length > 0) {
            try {
                c.sendFile(file.file(), file.offset(), length);
            } catch (UncheckedIOException e) {
                // The head is out already: the only honest thing left is to cut the connection.
                log.warn("Connection {}: file {} vanished while being sent; closing", c.id(), file.file());
                c.abort();
                return;
            }
        }
        c.write(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private static DefaultFullHttpResponse full(HttpResponseStatus status, HttpHeaders h, ByteBuf content) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content, h,
                DefaultHttpHeadersFactory.trailersFactory().newEmptyHeaders());
    }

    private static boolean hasBody(HttpResponseStatus status) {
        int code = status.code();
        return code >= 200 && code != 204 && code != 304;
    }

    private static void closeQuietly(Response.Stream stream) {
        try {
            stream.input().close();
        } catch (Exception e) {
            log.debug("Closing an unsent response stream failed", e);
        }
    }
}
