package dev.serverframework.http;

import io.netty.handler.codec.http.HttpMethod;

/**
 * Watches the requests of an {@link HttpProtocol}, e.g. to keep metrics (the metrics module's
 * {@code HttpMetrics} is one). Set with {@link HttpProtocol.Builder#observer(HttpObserver)}.
 *
 * <p>Whatever an observer needs per route it resolves once: {@link #route} is called when the protocol is
 * built, once for each route template and once with {@code null} for requests no route matched; the
 * protocol then hands each request the {@link Route} of its route, so the per-request calls need no
 * look-up. The per-request calls run on the connection's executor (a worker, or the I/O loop in
 * {@link dev.serverframework.core.Protocol.Execution#IO_LOOP} mode), so they must be cheap and must not
 * block.
 */
public interface HttpObserver {
    /**
     * Resolves what to tell about the requests of one route. Called on the thread that builds the
     * protocol, once per route template ({@code /users/{id}}, a static prefix as {@code /static/*}) and
     * once with {@code null} for requests that matched no route (404, and requests that failed to decode).
     */
    Route route(String template);

    /** The observer of one route's requests. Called on the connection's executor. */
    interface Route {
        /** A request of this route was admitted (decoded and routed); its response is not written yet. */
        void started();

        /**
         * The response to a request {@link #started() started} earlier was handed to the transport.
         *
         * @param method        the request method (Netty's constant for the standard ones)
         * @param status        the response status code
         * @param durationNanos from when the I/O loop handed the decoded request to the protocol (so its wait for
         *                      the worker counts) to its response's hand-over to the transport
         */
        void completed(HttpMethod method, int status, long durationNanos);

        /**
         * A request {@link #started() started} earlier gets no response: a response before it closed the
         * connection (pipelined requests behind a {@code Connection: close} answer).
         */
        void abandoned();
    }
}
