package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.http.Request;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.List;
import java.util.Map;

/**
 * The framework's {@link Request}: a decoded message with the route that matched it. Made on the
 * connection's executor for each routed request; the query is parsed on first use.
 */
public final class RoutedRequest implements Request {
    private final FullHttpRequest message;
    private final Connection connection;
    private final Map<String, String> pathParams;
    private final String routeTemplate;
    private QueryStringDecoder query;

    /** A request for {@code message} that matched {@code routeTemplate} with these path parameters. */
    public RoutedRequest(FullHttpRequest message, Connection connection, Map<String, String> pathParams,
                         String routeTemplate) {
        this.message = message;
        this.connection = connection;
        this.pathParams = pathParams;
        this.routeTemplate = routeTemplate;
    }

    @Override
    public String path() {
        return queryDecoder().path();
    }

    @Override
    public String routeTemplate() {
        return routeTemplate;
    }

    @Override
    public Map<String, String> pathParams() {
        return pathParams;
    }

    @Override
    public Map<String, List<String>> queryParams() {
        return queryDecoder().parameters();
    }

    @Override
    public Connection connection() {
        return connection;
    }

    @Override
    public FullHttpRequest message() {
        return message;
    }

    private QueryStringDecoder queryDecoder() {
        if (query == null) {
            String uri = message.uri();
            if (!uri.startsWith("/")) {
                // Absolute-form ("http://host/path?q"): drop scheme and authority, as the router does.
                String rawPath = Router.rawPath(uri);
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
