package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import dev.serverframework.http.sse.SseHandler;
import dev.serverframework.http.sse.SseOptions;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.io.InputStream;
import java.util.Map;

/**
 * A Server-Sent Events endpoint: a GET the handler accepts is answered with the head of a
 * {@code 200 text/event-stream} response, and the connection switches to the route's {@link SseProtocol},
 * which sends the body as events; one it refuses gets {@code 403} and the connection stays HTTP. A HEAD
 * gets the head a GET would, without a stream. One per route; on the connection's executor.
 */
public final class SseRoute implements SwitchingRoute {
    private static final AsciiString EVENT_STREAM = AsciiString.cached("text/event-stream");
    private static final AsciiString NO_CACHE = AsciiString.cached("no-cache");
    /** Tells nginx not to buffer the response, which would hold events back (nginx's own header). */
    private static final AsciiString X_ACCEL_BUFFERING = AsciiString.cached("X-Accel-Buffering");
    private static final AsciiString NO = AsciiString.cached("no");
    private static final AsciiString LAST_EVENT_ID = AsciiString.cached("Last-Event-ID");

    private final SseOptions options;
    private final SseHandler handler;
    private SseProtocol protocol;

    /** The route of these options and handler; usable once {@link #bind bound}. */
    public SseRoute(SseOptions options, SseHandler handler) {
        this.options = options;
        this.handler = handler;
    }

    @Override
    public void bind(Protocol.Execution execution) {
        this.protocol = new SseProtocol(options, handler, execution);
    }

    @Override
    public Outcome accept(Request request) {
        if (!handler.accept(request)) {
            Response refusal = Response.text("403 Forbidden: not accepted\n").withStatus(HttpResponseStatus.FORBIDDEN.code());
            return Outcome.refuse(refusal);
        }
        if (request.method().equals(HttpMethod.HEAD)) {
            // The router hands a GET route's HEAD here too; a stream opened for it would have no body to go in.
            return Outcome.refuse(streamHead(Response.stream(InputStream.nullInputStream(), null)));
        }
        Connection c = request.connection();
        boolean http10 = request.message().protocolVersion().equals(HttpVersion.HTTP_1_0);
        Map<String, String> params = request.pathParams().isEmpty() ? Map.of() : Map.copyOf(request.pathParams());
        SseSession.attach(c, new SseSession(c, protocol, request.uri(), params, request.header(LAST_EVENT_ID), !http10));
        // The stream is the connection's last response, whatever the client asked: say so (an HTTP/1.0
        // client is told by the framework, the close being what ends its body).
        Response head = streamHead(Response.status(HttpResponseStatus.OK))
                .header(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return Outcome.switchTo(head, protocol);
    }

    @Override
    public void abandoned(Connection connection) {
        SseSession.detach(connection);
    }

    private static Response streamHead(Response res) {
        return res.header(HttpHeaderNames.CONTENT_TYPE, EVENT_STREAM)
                .header(HttpHeaderNames.CACHE_CONTROL, NO_CACHE)
                .header(X_ACCEL_BUFFERING, NO);
    }
}
