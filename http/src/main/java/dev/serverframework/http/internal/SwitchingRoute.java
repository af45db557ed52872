package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;

/**
 * A route whose accepted requests take the connection out of HTTP: a WebSocket endpoint, a stream of
 * Server-Sent Events. The protocol asks it about each request routed to it, writes the answer in request
 * order (its head only: the next protocol frames what follows), then switches the connection to the next
 * protocol; no later HTTP request on the connection is answered. Shared by the protocol's connections;
 * called on the connection's executor.
 */
public interface SwitchingRoute {

    /**
     * Where the next protocol's callbacks run: the HTTP protocol's own execution, so that the connection
     * keeps its executor. Called once, when the HTTP protocol is built, before any request.
     */
    void bind(Protocol.Execution execution);

    /**
     * Decides on a request routed here. Per-connection state of the next protocol goes in the connection's
     * attributes here, before the switch.
     */
    Outcome accept(Request request);

    /**
     * An accepted switch that will not happen after all: the server began stopping, or the client
     * half-closed, before the answer's turn came. Undoes what {@link #accept} prepared on the connection.
     */
    default void abandoned(Connection connection) {
    }

    /**
     * The answer to a request: a refusal (an ordinary response, the connection stays HTTP) or an acceptance
     * (the head of {@code response} is written, then the connection switches to {@code next}).
     */
    record Outcome(Response response, Protocol<?> next) {
        /** Refuses with this response; the connection stays HTTP. */
        public static Outcome refuse(Response response) {
            return new Outcome(response, null);
        }

        /** Accepts: {@code head}'s status and headers go out, then the connection switches to {@code next}. */
        public static Outcome switchTo(Response head, Protocol<?> next) {
            return new Outcome(head, next);
        }
    }
}
