package dev.serverframework.http.sse;

import dev.serverframework.http.Request;

/**
 * What an application does with the Server-Sent Events streams of one route
 * ({@code HttpProtocol.builder().sse("/events", handler)}): callbacks with defaults that do nothing.
 *
 * <p><b>The stream.</b> A GET the handler accepts gets {@code 200} with {@code Content-Type: text/event-stream},
 * {@code Cache-Control: no-cache}, {@code X-Accel-Buffering: no} (so that nginx passes events on at once) and
 * {@code Connection: close}; the body is chunked for an HTTP/1.1 client and ended by the close for an
 * HTTP/1.0 one. The connection then carries nothing but the stream: what the client sends on it is
 * discarded (a request pipelined behind it is never answered), and a client that sends more than a few
 * request heads' worth (16 KiB) is counted as a protocol error and its stream ended. A comment line goes out
 * after each quiet {@link SseOptions#heartbeat() heartbeat} interval. The stream ends, with its last chunk,
 * when the server stops, when the client half-closes, or on {@link SseStream#close()}; the connection closes
 * after it.
 *
 * <p><b>Threads.</b> {@link #accept} and every callback run on the connection's executor: its pinned
 * worker, or its I/O loop when the HTTP protocol runs there (then a callback must never block). Callbacks
 * of one stream never run concurrently; a handler shared by streams must be thread-safe.
 */
public interface SseHandler {

    /**
     * Decides whether a request may open a stream; false answers {@code 403 Forbidden}. Default true. Also
     * asked for a HEAD, which gets the head a GET would, and no stream. The request is valid only during
     * this call.
     */
    default boolean accept(Request request) {
        return true;
    }

    /**
     * The stream is open: its response head is out and events can be sent. A client that reconnects says
     * which event it saw last in {@link SseStream#lastEventId()}. A broadcast through {@code Server.each}
     * may reach the stream just before this call.
     */
    default void onOpen(SseStream stream) {
    }

    /** The stream ended: the client went away, or the server closed it. Once per stream. */
    default void onClose(SseStream stream) {
    }
}
