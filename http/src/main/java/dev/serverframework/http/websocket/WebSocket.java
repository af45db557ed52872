package dev.serverframework.http.websocket;

import dev.serverframework.core.Connection;
import dev.serverframework.http.internal.WebSocketSession;
import io.netty.buffer.ByteBuf;

import java.util.Map;

/**
 * One WebSocket connection (RFC 6455) as a {@link WebSocketHandler} sees it. {@code Server.each} reaches
 * it like any connection: {@code server.each("chat", c -> WebSocket.of(c).send(message))};
 * a message sent to many is best {@link PreparedMessage prepared} once.
 *
 * <p><b>Threads.</b> Every method may be called from any thread; messages keep the order of the calls
 * made on one thread (the connection's executor, where callbacks and {@code each} tasks run, is the one
 * that keeps the order with everything else the connection writes).
 *
 * <p><b>Slow readers.</b> Bytes sent and not yet taken by the transport are counted; a send that would put
 * more than the route's {@link WebSocketOptions.Builder#maxQueuedBytes} in the queue closes the socket
 * instead: a close frame with code 1008 and a reason goes out after what is queued (never ahead of it,
 * which would put messages after the close), and a peer that does not read even that is cut after the close
 * timeout. So a broadcast never waits for, nor piles up memory behind, one slow client.
 */
public interface WebSocket {

    /** Close code of a normal close. */
    int NORMAL_CLOSURE = 1000;
    /** Close code of a server going away (a stop). */
    int GOING_AWAY = 1001;
    /** Close code of a protocol error. */
    int PROTOCOL_ERROR = 1002;
    /** Close code of text that is not UTF-8. */
    int INVALID_PAYLOAD = 1007;
    /** Close code of a policy violation: this server uses it for a reader that fell too far behind. */
    int POLICY_VIOLATION = 1008;
    /** Close code of a message over the size limit. */
    int MESSAGE_TOO_BIG = 1009;

    /**
     * The WebSocket on this connection, or null when the connection is not one (or not yet: until the
     * switch from HTTP is done). Never null for a connection that {@code Server.each} or {@code count}
     * finds under a WebSocket route's service, even one whose {@link WebSocketHandler#onOpen} has not run
     * yet (a broadcast may reach a socket just before it). Any thread.
     */
    static WebSocket of(Connection connection) {
        return WebSocketSession.of(connection);
    }

    /** The connection underneath: its id, attributes, addresses, server. */
    Connection connection();

    /** The handshake's request target, path and query, as the client sent it. */
    String uri();

    /** The path parameters of the route template the handshake matched. */
    Map<String, String> pathParams();

    /** A path parameter of the route template, or null. */
    default String pathParam(String name) {
        return pathParams().get(name);
    }

    /** The subprotocol agreed in the handshake, or null when none was. */
    String subprotocol();

    /** Whether {@code permessage-deflate} was agreed: messages this side compresses are compressed. */
    boolean isCompressed();

    /**
     * Sends a text message. Returns false, sending nothing, when the socket is closing or closed, or when
     * the peer reads too slowly (the socket is then closed with 1008).
     */
    boolean send(String text);

    /** Sends a binary message; returns as {@link #send(String)}. */
    boolean send(byte[] data);

    /** Sends a binary message, taking over one reference of {@code data}; returns as {@link #send(String)}. */
    boolean send(ByteBuf data);

    /** Sends a message encoded once for many receivers; returns as {@link #send(String)}. */
    boolean send(PreparedMessage message);

    /**
     * Starts the closing handshake: a close frame with this code and reason goes out after the messages
     * sent before, and the connection closes when the peer answers with its own, or after the route's close
     * timeout. Nothing more is sent or delivered after it. Does nothing on a socket already closing.
     *
     * @param code   1000 to 1003, 1007 to 1014, or 3000 to 4999 (RFC 6455 7.4)
     * @param reason at most 123 bytes of UTF-8; may be empty
     * @throws IllegalArgumentException for a code a close frame may not carry, or a longer reason
     */
    void close(int code, String reason);

    /** Closes with 1000 and no reason; see {@link #close(int, String)}. */
    default void close() {
        close(NORMAL_CLOSURE, "");
    }

    /** True until a close frame is sent or received, or the connection ends. */
    boolean isOpen();

    /** Bytes sent to this socket that the transport has not taken yet. */
    long queuedBytes();
}
