package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.http.websocket.PreparedMessage;
import dev.serverframework.http.websocket.WebSocket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One connection's WebSocket state: what the handshake agreed, where the closing handshake is, and how many
 * bytes wait for the peer. Made by the {@link WebSocketRoute} when it accepts a handshake, kept in a
 * connection attribute; the sending side is thread-safe, the receiving side runs on the connection's
 * executor (through {@link WebSocketProtocol}).
 */
public final class WebSocketSession extends SwitchedSession implements WebSocket {
    private static final Logger log = LoggerFactory.getLogger(WebSocketSession.class);
    private static final ConnectionSlot<WebSocketSession> SLOT = new ConnectionSlot<>(WebSocketSession.class);

    /** Accepted, the 101 on its way: nothing may be sent yet. */
    static final int CONNECTING = 0;
    static final int OPEN = 1;
    /** A close frame was sent: nothing more is sent, and data from the peer is ignored. */
    static final int CLOSING = 2;
    /** The closing handshake is over (or the connection ended). */
    static final int CLOSED = 3;

    private static final AtomicIntegerFieldUpdater<WebSocketSession> STATE =
            AtomicIntegerFieldUpdater.newUpdater(WebSocketSession.class, "state");

    private final WebSocketProtocol protocol;
    private final String subprotocol;
    /** The agreed extension until the pipeline is built; then null, and {@link #compressed} says it was. */
    private WebSocketServerExtension extension;
    private final boolean compressed;
    private volatile int state;
    /** The close this side sent (code and reason), for {@code onClose}: written by the thread that closed. */
    private volatile int sentCode;
    private volatile String sentReason;
    /** The write of the close frame this side sent; done once the transport has taken it. */
    private volatile ChannelFuture closeWrite;
    /** Executor only: a ping went out that the peer has not answered. */
    boolean awaitingPong;
    /** Executor only: the handler has been told of the close. */
    boolean closeReported;

    WebSocketSession(Connection connection, WebSocketProtocol protocol, String uri, Map<String, String> pathParams,
                     String subprotocol, WebSocketServerExtension extension) {
        super(connection, uri, pathParams);
        this.protocol = protocol;
        this.subprotocol = subprotocol;
        this.extension = extension;
        this.compressed = extension != null;
    }

    /** The session of a connection that is a WebSocket (open, closing or closed), or null. Any thread. */
    public static WebSocketSession of(Connection connection) {
        WebSocketSession s = SLOT.get(connection);
        return s == null || s.state == CONNECTING ? null : s;
    }

    /** The session of the connection, whatever its state; null when there is none. */
    static WebSocketSession any(Connection connection) {
        return SLOT.get(connection);
    }

    /** The session of the channel (a connection's attributes are its channel's), whatever its state. */
    static WebSocketSession any(Channel channel) {
        return SLOT.get(channel);
    }

    static void attach(Connection connection, WebSocketSession session) {
        SLOT.set(connection, session);
    }

    static void detach(Connection connection) {
        SLOT.remove(connection);
    }

    /** Hands the agreed extension to the pipeline's builder once, and forgets it (its handshaker state is big). */
    WebSocketServerExtension takeExtension() {
        WebSocketServerExtension e = extension;
        extension = null;
        return e;
    }

    /**
     * The switch is done (the frame codecs are in place, behind the 101): sends are allowed from now on. On
     * the I/O loop, before the framework counts the connection under the route's service.
     */
    void opened() {
        STATE.compareAndSet(this, CONNECTING, OPEN);
    }

    int state() {
        return state;
    }

    @Override
    public String subprotocol() {
        return subprotocol;
    }

    @Override
    public boolean isCompressed() {
        return compressed;
    }

    @Override
    public boolean send(String text) {
        Objects.requireNonNull(text, "text");
        if (state != OPEN) {
            return false;
        }
        ByteBuf payload = ByteBufUtil.writeUtf8(connection.alloc(), text);
        return enqueue(new TextWebSocketFrame(payload), payload.readableBytes() + 14);
    }

    @Override
    public boolean send(byte[] data) {
        Objects.requireNonNull(data, "data");
        return send(Unpooled.wrappedBuffer(data));
    }

    @Override
    public boolean send(ByteBuf data) {
        Objects.requireNonNull(data, "data");
        if (state != OPEN) {
            data.release();
            return false;
        }
        return enqueue(new BinaryWebSocketFrame(data), data.readableBytes() + 14);
    }

    @Override
    public boolean send(PreparedMessage message) {
        Objects.requireNonNull(message, "message");
        if (state != OPEN) {
            return false;
        }
        return enqueue(message.frame(), message.frameLength());
    }

    /**
     * Writes a frame unless it would put the peer over its queue limit; then the peer is closed as too slow
     * instead. Counts the frame's bytes until the transport has taken them.
     */
    private boolean enqueue(Object frame, int bytes) {
        return writeCounted(frame, bytes, protocol.options().maxQueuedBytes());
    }

    /**
     * The peer reads too slowly: a 1008 close frame goes out after what is queued, the connection closes
     * after it, and is cut if the peer has not read it all within the close timeout.
     */
    @Override
    void tooSlow(long limit) {
        if (startClosing(POLICY_VIOLATION, "too slow: more than " + limit + " bytes queued")) {
            log.debug("WebSocket {} closed: more than {} bytes queued for it", connection.id(), limit);
            connection.close();
            cutAfterCloseTimeout();
        }
    }

    @Override
    public void close(int code, String reason) {
        Objects.requireNonNull(reason, "reason");
        if (!WebSocketProtocol.validCloseCode(code)) {
            throw new IllegalArgumentException("a close frame may not carry code " + code);
        }
        if (reason.getBytes(StandardCharsets.UTF_8).length > 123) {
            throw new IllegalArgumentException("a close reason is at most 123 bytes of UTF-8");
        }
        if (startClosing(code, reason)) {
            cutAfterCloseTimeout();
        }
    }

    /**
     * Moves to CLOSING and sends a close frame with this code and reason (after the frames sent before);
     * false when the socket was already closing or closed. Any thread.
     */
    boolean startClosing(int code, String reason) {
        int s;
        do {
            s = state;
            if (s != OPEN && s != CONNECTING) {
                return false;
            }
        } while (!STATE.compareAndSet(this, s, CLOSING));
        sentCode = code;
        sentReason = reason;
        closeWrite = connection.write(new CloseWebSocketFrame(code, reason));
        return true;
    }

    /**
     * The peer has this long to answer a close (and to read it): then a peer that has the close frame gets
     * a graceful close (the end of stream, RFC 6455 7.1.1), and one that did not even read that far is cut,
     * or it would hold the connection until the framework's much longer write-stall timeout.
     */
    void cutAfterCloseTimeout() {
        afterDelay(protocol.options().closeTimeout().toNanos(), () -> {
            ChannelFuture written = closeWrite;
            if (written != null && written.isDone()) {
                connection.close();
            } else {
                connection.abort();
            }
        });
    }

    /** The closing handshake is over. */
    void closed() {
        state = CLOSED;
    }

    /** Whether this side sent a close frame; its code is {@link #sentCode()}. */
    boolean sentClose() {
        return sentReason != null;
    }

    int sentCode() {
        return sentCode;
    }

    String sentReason() {
        return sentReason;
    }

    @Override
    public boolean isOpen() {
        return state == OPEN && connection.isOpen();
    }

    @Override
    public String toString() {
        return "WebSocket[connection " + connection.id() + ", " + uri() + "]";
    }
}
