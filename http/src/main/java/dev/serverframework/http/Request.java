package dev.serverframework.http;

import dev.serverframework.core.Connection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * One HTTP request as a handler sees it: method, path, path and query parameters, headers and the
 * aggregated body. Valid until the handler's response is written; read it on the handler's thread.
 */
public final class Request {
    private final FullHttpRequest message;
    private final Connection connection;
    private final Map<String, String> pathParams;
    private final String routeTemplate;
    private QueryStringDecoder query;

    /** Made by the framework for each routed request. */
    public Request(FullHttpRequest message, Connection connection, Map<String, String> pathParams,
                   String routeTemplate) {
        this.message = message;
        this.connection = connection;
        this.pathParams = pathParams;
        this.routeTemplate = routeTemplate;
    }

    /** The method, e.g. GET. */
    public HttpMethod method() {
        return message.method();
    }

    /** The request target as sent, path and query. */
    public String uri() {
        return message.uri();
    }

    /** The decoded path, without the query. */
    public String path() {
        return queryDecoder().path();
    }

    /** The route template that matched, e.g. {@code /users/{id}}; never the raw path. */
    public String routeTemplate() {
        return routeTemplate;
    }

    /** A path parameter named in the route template, or {@code null}. */
    public String pathParam(String name) {
        return pathParams.get(name);
    }

    /** All path parameters. */
    public Map<String, String> pathParams() {
        return pathParams;
    }

    /** The first value of a query parameter, or {@code null}. */
    public String queryParam(String name) {
        List<String> values = queryDecoder().parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** Every query parameter with all its values. */
    public Map<String, List<String>> queryParams() {
        return queryDecoder().parameters();
    }

    /** The first value of a header, or {@code null}. */
    public String header(CharSequence name) {
        return message.headers().get(name);
    }

    /** All headers. */
    public HttpHeaders headers() {
        return message.headers();
    }

    /** The body bytes (a copy). */
    public byte[] body() {
        return ByteBufUtil.getBytes(message.content());
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
        return message.content().toString(StandardCharsets.UTF_8);
    }

    /** The body buffer itself; valid until the response is written. Do not release it. */
    public ByteBuf bodyBuffer() {
        return message.content();
    }

    /** The connection the request came on. */
    public Connection connection() {
        return connection;
    }

    /** The Netty request message. */
    public FullHttpRequest message() {
        return message;
    }

    private QueryStringDecoder queryDecoder() {
        if (query == null) {
            String uri = message.uri();
            if (!uri.startsWith("/")) {
                // Absolute-form ("http://host/path?q"): drop scheme and authority, as the router does.
                String rawPath = HttpProtocol.rawPath(uri);
                int q = uri.indexOf('?');
                uri = rawPath == null ? uri : q < 0 ? rawPath : rawPath + uri.substring(q);
            }
            query = new QueryStringDecoder(uri);
        }
        return query;
    }

    @Override
    public String toString() {
        return message.method() + " " + message.uri();
    }
}
