/**
 * HTTP/1.1 on server-framework's core: {@link dev.serverframework.http.HttpProtocol} routes requests to
 * handlers and writes their {@link dev.serverframework.http.Response}s, with keep-alive, pipelining, static
 * files and hard limits on bad input, and WebSocket ({@code dev.serverframework.http.websocket}) and
 * Server-Sent Events ({@code dev.serverframework.http.sse}) endpoints on its routes. Those three packages
 * are API;
 * {@code dev.serverframework.http.internal} is the machinery behind it and is not exported.
 */
module dev.serverframework.http {
    requires transitive dev.serverframework.core;
    // HttpMethod, HttpHeaders, FullHttpRequest appear in the API.
    requires transitive io.netty.codec.http;
    requires org.slf4j;

    exports dev.serverframework.http;
    exports dev.serverframework.http.websocket;
    exports dev.serverframework.http.sse;
}
