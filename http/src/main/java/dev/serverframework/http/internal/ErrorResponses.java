package dev.serverframework.http.internal;

import dev.serverframework.http.Response;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;

/**
 * Error answers, all with a short, generic text body: the reason phrase, never internal details. As a
 * {@link Response} for the protocol's answers (400, 404, 405, 500..., and the decoder's refusals, which reach
 * the protocol as failed requests so that they keep request order); as bytes for the refusal over capacity.
 * Any thread.
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
}
