package dev.serverframework.http.websocket;

import dev.serverframework.http.Request;
import io.netty.buffer.ByteBuf;

/**
 * What an application does with WebSocket connections of one route
 * ({@code HttpProtocol.builder().websocket("/chat", handler)}): a handful of callbacks, each with a default
 * that does nothing, so a handler overrides only what it needs.
 *
 * <p><b>Threads.</b> {@link #accept} and every callback run on the connection's executor: its pinned
 * worker, or its I/O loop when the HTTP protocol runs there ({@code execution(IO_LOOP)}, then a callback
 * must never block). Callbacks of one connection never run concurrently and keep their order; those of
 * different connections run in parallel, so a handler shared by them must be thread-safe. Per-connection
 * state goes in the connection's attributes: {@code socket.connection().attr(KEY)}.
 *
 * <p><b>Exceptions.</b> A callback that throws is logged with the connection id and the connection is
 * closed, as for any core protocol.
 */
public interface WebSocketHandler {

    /**
     * Decides whether a valid handshake request may become a WebSocket (a check of a cookie or a token,
     * say); false answers {@code 403 Forbidden}. Runs before the handshake's answer is written; default
     * true. The request is valid only during this call.
     */
    default boolean accept(Request handshake) {
        return true;
    }

    /** The handshake is done: the socket can send. */
    default void onOpen(WebSocket socket) {
    }

    /** A whole text message arrived (reassembled from its fragments, UTF-8 checked). */
    default void onText(WebSocket socket, String text) {
    }

    /**
     * A whole binary message arrived (reassembled from its fragments). The buffer is released when this
     * method returns: to keep it, {@code retain()} it.
     */
    default void onBinary(WebSocket socket, ByteBuf data) {
    }

    /**
     * The socket can take writes again without queueing: its outbound buffer went under the low water mark
     * after rising over the high one. A handler that paused a producer resumes it here.
     */
    default void onReady(WebSocket socket) {
    }

    /**
     * The socket closed, once per socket. {@code code} and {@code reason} are the peer's close frame's when
     * it sent one (1005 when that frame had no code); the code this server sent when it closed for a
     * protocol error (1002, 1007, 1009), a slow reader (1008), a stop (1001) or {@link WebSocket#close};
     * 1006 when the connection ended without a close frame.
     */
    default void onClose(WebSocket socket, int code, String reason) {
    }
}
