package dev.serverframework.http.internal;

import dev.serverframework.http.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;

/**
 * Error answers, all with a short, generic text body: the reason phrase, never internal details. As a
 * {@link Response} for the protocol's own answers (400, 404, 405, 500...); as a complete message for the
 * pipeline's (417 for an unknown expectation, before a request reaches the protocol; 408 and 413 go through
 * the protocol, so that they keep request order); as bytes for the refusal over capacity. Any thread.
 */
public final class ErrorResponses {
    private ErrorResponses() {
    }

    /** A response with this error status and its reason phrase as a text body. */
    public static Response response(HttpResponseStatus status) {
        return Response.text(status.reasonPhrase() + "\n").withStatus(status.code());
    }

    /**
     * The bytes of the {@code 503 Service Unavailable} a client over the connection limit gets: no
     * {@code Date} (optional for 5xx, RFC 9110 6.6.1), so they are made once.
     */
    public static byte[] serviceUnavailable(CharSequence serverHeader) {
        String body = HttpResponseStatus.SERVICE_UNAVAILABLE.reasonPhrase() + "\n";
        String head = "HTTP/1.1 503 Service Unavailable\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Length: " + body.length() + "\r\n"
                + "Retry-After: 1\r\n"
                + "Connection: close\r\n"
                + (serverHeader == null ? "" : "Server: " + serverHeader + "\r\n")
                + "\r\n";
        return (head + body).getBytes(StandardCharsets.US_ASCII);
    }

    /** The bytes of a complete response with the reason phrase as body, Date, Server and, if asked, Connection: close. */
    public static ByteBuf encoded(HttpResponseStatus status, CharSequence serverHeader, boolean close) {
        String body = status.reasonPhrase() + "\n";
        String head = "HTTP/1.1 " + status.code() + " " + status.reasonPhrase() + "\r\n"
                + "content-type: text/plain\r\n"
                + "content-length: " + body.length() + "\r\n"
                + "date: " + HttpDate.now() + "\r\n"
                + (serverHeader == null ? "" : "server: " + serverHeader + "\r\n")
                + (close ? "connection: close\r\n" : "")
                + "\r\n";
        return Unpooled.wrappedBuffer((head + body).getBytes(StandardCharsets.US_ASCII));
    }
}
