package dev.serverframework.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/** Error responses with a short, generic text body: the reason phrase, never internal details. */
public final class HttpErrors {
    private HttpErrors() {
    }

    /** A response with this error status and its reason phrase as a text body. */
    public static Response response(HttpResponseStatus status) {
        return Response.text(status.reasonPhrase() + "\n").withStatus(status.code());
    }
}
