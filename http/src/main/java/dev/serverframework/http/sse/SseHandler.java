package dev.serverframework.http.sse;

import dev.serverframework.http.Request;

/**
 * What an application does with the Server-Sent Events streams of one route
 * ({@code HttpProtocol.builder().sse("/events", handler)}): callbacks with defaults that do nothing.
 *
 * <p><b>Threads.</b> {@link #accept} and every callback run on the connection's executor: its pinned
 * worker, or its I/O loop when the HTTP protocol runs there (then a callback must never block). Callbacks
 * of one stream never run concurrently; a handler shared by streams must be thread-safe.
 */
public interface SseHandler {

    /**
     * Decides whether a request may open a stream; false answers {@code 403 Forbidden}. Default true. The
     * request is valid only during this call.
     */
    default boolean accept(Request request) {
        return true;
    }

    /**
     * The stream is open: its response head is out and events can be sent. A client that reconnects says
     * which event it saw last in {@link SseStream#lastEventId()}.
     */
    default void onOpen(SseStream stream) {
    }

    /** The stream ended: the client went away, or the server closed it. Once per stream. */
    default void onClose(SseStream stream) {
    }
}
