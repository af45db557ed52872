package dev.serverframework.http;

import dev.serverframework.core.Connection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * One HTTP request as a handler sees it: method, path, path and query parameters, headers and the
 * aggregated body. The framework makes one for each routed request and hands it to the route's
 * {@link Handler} or {@link AsyncHandler} on the connection's executor. Valid until the handler's response
 * is written; read it on the handler's thread (an asynchronous handler may read it until its stage
 * completes). Per-connection state of the application goes in the connection's attributes:
 * {@code request.connection().attr(MY_KEY)}.
 */
public interface Request {
    /** The method, e.g. GET. */
    default HttpMethod method() {
        return message().method();
    }

    /** The request target as sent, path and query. */
    default String uri() {
        return message().uri();
    }

    /** The decoded path, without the query. */
    String path();

    /** The route template that matched, e.g. {@code /users/{id}}; never the raw path. */
    String routeTemplate();

    /** A path parameter named in the route template, or {@code null}. */
    default String pathParam(String name) {
        return pathParams().get(name);
    }

    /** All path parameters. */
    Map<String, String> pathParams();

    /** The first value of a query parameter, or {@code null}. */
    default String queryParam(String name) {
        List<String> values = queryParams().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** Every query parameter with all its values. */
    Map<String, List<String>> queryParams();

    /** The first value of a header, or {@code null}. */
    default String header(CharSequence name) {
        return message().headers().get(name);
    }

    /** All headers. */
    default HttpHeaders headers() {
        return message().headers();
    }

    /** The body bytes (a copy). */
    default byte[] body() {
        return ByteBufUtil.getBytes(bodyBuffer());
    }

    /** The body as UTF-8 text. */
    default String bodyText() {
        return bodyBuffer().toString(StandardCharsets.UTF_8);
    }

    /** The body buffer itself; valid until the response is written. Do not release it. */
    default ByteBuf bodyBuffer() {
        return message().content();
    }

    /** The connection the request came on; its {@link Connection#attr attributes} keep per-connection state. */
    Connection connection();

    /** The Netty request message. */
    FullHttpRequest message();
}
