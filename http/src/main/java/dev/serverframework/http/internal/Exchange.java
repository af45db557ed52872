package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.HttpObserver;
import dev.serverframework.http.Response;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * One request on its way through the protocol, from its admission to its response's write: the decoded
 * message, its place in the connection's order, what its response's framing depends on (HTTP/1.0, HEAD),
 * whether that response closes the connection, the observer's route and start time, and, once the
 * handler has answered, the response. Made once per request in {@code onData}, then passed through
 * routing, the handler, an asynchronous completion, the ordering and the writer. Used only on the
 * connection's executor.
 */
public final class Exchange {
    private final Connection connection;
    private final PipelineOrder order;
    private final FullHttpRequest message;
    private final long sequence;
    private final HttpMethod method;
    private final boolean http10;
    private final boolean head;
    private final long startNanos;
    /** The request was malformed, or its target unusable: answered with an error, then the connection closed. */
    private boolean badInput;
    /** {@link KeepAlive}'s decision so far: the response closes the connection. Once true, stays true. */
    private boolean closes;
    private HttpObserver.Route route;
    private Response response;
    /** The route that accepted to take the connection out of HTTP once the response is out; else null. */
    private SwitchingRoute switchingRoute;
    private Protocol<?> nextProtocol;

    /**
     * Admits {@code message} on the connection: numbers it in {@code order}. A message the decoder refused
     * is bad input, answered without HTTP/1.0 or HEAD framing (what it claims is not to be trusted).
     *
     * @param startNanos {@link System#nanoTime()} when the I/O loop handed the request over, for the observer (0
     *                   without one)
     */
    public Exchange(Connection connection, PipelineOrder order, FullHttpRequest message, long startNanos) {
        this.connection = connection;
        this.order = order;
        this.message = message;
        this.sequence = order.admit();
        this.method = message.method();
        this.badInput = message.decoderResult().isFailure();
        this.http10 = !badInput && message.protocolVersion().equals(HttpVersion.HTTP_1_0);
        this.head = !badInput && method.equals(HttpMethod.HEAD);
        this.startNanos = startNanos;
    }

    /** The connection the request came on. */
    public Connection connection() {
        return connection;
    }

    /** The connection's request order, which this exchange has its place in. */
    public PipelineOrder order() {
        return order;
    }

    /** The decoded request (its decoder result may be a failure: see {@link #isBadInput()}). */
    public FullHttpRequest message() {
        return message;
    }

    /** The request's number on its connection, from 0. */
    public long sequence() {
        return sequence;
    }

    /** The request was HTTP/1.0: keep-alive must be announced, a stream is delimited by the close. */
    public boolean http10() {
        return http10;
    }

    /** The request was HEAD: the response goes out without its body. */
    public boolean head() {
        return head;
    }

    /** True when the request was bad input: undecodable, or a target that names no path. */
    public boolean isBadInput() {
        return badInput;
    }

    /** Marks the request as bad input found after decoding (an unusable target). */
    public void badInput() {
        badInput = true;
    }

    /** True once {@link KeepAlive} has decided that the response closes the connection. */
    public boolean closes() {
        return closes;
    }

    /** Records that the response closes the connection; only {@link KeepAlive} decides it. */
    void closeAfter() {
        closes = true;
    }

    /** Records that once the response's head is out, the connection switches to {@code next}. */
    void switchAfter(SwitchingRoute route, Protocol<?> next) {
        this.switchingRoute = route;
        this.nextProtocol = next;
    }

    /** The protocol the connection switches to after this response, or null when it stays HTTP. */
    public Protocol<?> nextProtocol() {
        return nextProtocol;
    }

    /** The route that accepted the switch, or null. */
    public SwitchingRoute switchingRoute() {
        return switchingRoute;
    }

    /** True when no HTTP response may follow this one: it closes the connection or switches it away. */
    public boolean endsHttp() {
        return closes || nextProtocol != null;
    }

    /** The response, once the handler (or the protocol) has answered; null before. */
    public Response response() {
        return response;
    }

    /** Sets the response the request gets. */
    public void respond(Response response) {
        this.response = response;
    }

    /** Tells the observer's route, if any, that this request has started, and keeps it for the end. */
    public void observe(HttpObserver.Route route) {
        this.route = route;
        if (route != null) {
            route.started();
        }
    }

    /** Tells the observer, if any, that the response was handed to the transport. */
    public void completed() {
        if (route != null) {
            route.completed(method, response.status().code(), System.nanoTime() - startNanos);
        }
    }

    /**
     * Drops a ready response that will never be written (an earlier response closed the connection):
     * frees its buffer, undoes a switch its route prepared, and tells the observer.
     */
    public void abandon() {
        if (response != null && response.body() instanceof Response.Buffer b) {
            b.content().release();
        }
        if (switchingRoute != null) {
            // An accepted switch behind a response that closes the connection: it never happens.
            switchingRoute.abandoned(connection);
        }
        if (route != null) {
            route.abandoned();
        }
    }
}
