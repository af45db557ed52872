package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.websocket.WebSocket;
import dev.serverframework.http.websocket.WebSocketHandler;
import dev.serverframework.http.websocket.WebSocketOptions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;

import java.time.Duration;

/**
 * WebSocket (RFC 6455) as a core {@link Protocol}, switched to from HTTP by a {@link WebSocketRoute}.
 *
 * <p><b>Pipeline.</b> Netty's frame codec, strict: client frames must be masked, reserved bits and
 * opcodes, control frames over 125 bytes or fragmented, and bad close codes are protocol errors (1002);
 * {@code permessage-deflate}'s inflater and deflater when agreed (RSV1 allowed on the first frame of a
 * message only, the inflater held to the largest message); the {@link WebSocketFrameGuard}, which checks
 * each text fragment's UTF-8 as it comes (1007) and turns each of those errors into a
 * {@link WebSocketViolation} in the order of the frames; last, fragments reassembled up to the largest message
 * (1009, through {@link #onInputTooLong}).
 *
 * <p><b>Callbacks.</b> Messages go to the {@link WebSocketHandler}; pings are answered with pongs; a close
 * from the peer is echoed and the connection closed (the server closes TCP first, RFC 6455 7.1.1); a
 * protocol error gets a close frame with its code and the connection closes; the idle timeout sends a ping,
 * and the next one closes a peer that has not answered; a stop sends 1001. One per route, shared by its
 * connections; every callback on the connection's executor.
 */
final class WebSocketProtocol implements Protocol<Object> {
    /** Netty's server frame encoder keeps no state: one serves every connection (idle sockets are many). */
    private static final WebSocket13FrameEncoder ENCODER = new SharedFrameEncoder();
    private final WebSocketOptions options;
    private final WebSocketHandler handler;
    private final Execution execution;
    private final WebSocketDecoderConfig plainFrames;
    private final WebSocketDecoderConfig extendedFrames;

    WebSocketProtocol(WebSocketOptions options, WebSocketHandler handler, Execution execution) {
        this.options = options;
        this.handler = handler;
        this.execution = execution;
        WebSocketDecoderConfig.Builder config = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(options.maxMessageSize())
                .expectMaskedFrames(true)
                .allowMaskMismatch(false)
                // Errors become messages in the guard, so that the close goes through this protocol.
                .closeOnProtocolViolation(false);
        this.plainFrames = config.allowExtensions(false).build();
        // A compressed frame may be a little larger than the message it inflates to (deflate stores what it
        // cannot shrink, with a few bytes per block): a message within the limit must not be refused for it.
        // The inflater holds the inflated message to the limit, and the guard an uncompressed one.
        int max = options.maxMessageSize();
        this.extendedFrames = config.allowExtensions(true).maxFramePayloadLength(max + (max >> 10) + 64).build();
    }

    WebSocketOptions options() {
        return options;
    }

    @Override
    public String service() {
        return options.service();
    }

    @Override
    public Execution execution() {
        return execution;
    }

    /**
     * The frame codecs, with the agreed extension's, and the socket opened for sending. On the I/O loop, as
     * the connection switches.
     */
    @Override
    public void initPipeline(ChannelPipeline p) {
        WebSocketSession session = WebSocketSession.any(p.channel());
        WebSocketServerExtension extension = session == null ? null : session.takeExtension();
        p.addLast("ws-encoder", ENCODER);
        p.addLast("ws-decoder", new WebSocket13FrameDecoder(extension == null ? plainFrames : extendedFrames));
        if (extension != null) {
            boolean noContext = extension.newReponseData().parameters().containsKey("client_no_context_takeover");
            p.addLast("ws-inflater", new WebSocketInflater(options.maxMessageSize(), noContext));
            p.addLast("ws-deflater", extension.newExtensionEncoder());
        }
        p.addLast("ws-guard", new WebSocketFrameGuard(options.maxMessageSize()));
        // Last: its complaint of a message over the limit reaches the framework, and so onInputTooLong.
        p.addLast("ws-aggregator", new WebSocketFrameAggregator(options.maxMessageSize()));
        if (session != null) {
            // Open now, with the codecs in place and the 101 written before: the framework moves the connection
            // to this route's service next, and then a broadcast to the service may reach it before onOpen
            // has run on its worker. WebSocket.of must then give the socket, not null.
            session.opened();
        }
    }

    /** The socket is open: the idle timeout becomes the ping interval, and the handler hears of it. */
    @Override
    public void onOpen(Connection connection) {
        WebSocketSession session = WebSocketSession.any(connection);
        Duration idle = options.idleTimeout() != null ? options.idleTimeout() : connection.server().settings().idleTimeout();
        connection.idleTimeout(idle);
        handler.onOpen(session);
    }

    @Override
    public void onData(Connection connection, Object message) {
        WebSocketSession session = WebSocketSession.any(connection);
        if (message instanceof TextWebSocketFrame text) {
            if (session.state() == WebSocketSession.OPEN) {
                handler.onText(session, text.text());
            }
        } else if (message instanceof BinaryWebSocketFrame binary) {
            if (session.state() == WebSocketSession.OPEN) {
                handler.onBinary(session, binary.content());
            }
        } else if (message instanceof PingWebSocketFrame ping) {
            // Answered until the peer's close has come (RFC 6455 5.5.2), also while ours waits for its answer.
            int state = session.state();
            if (state == WebSocketSession.OPEN || state == WebSocketSession.CLOSING) {
                connection.write(new PongWebSocketFrame(ping.content().retain()));
            }
        } else if (message instanceof PongWebSocketFrame) {
            session.awaitingPong = false;
        } else if (message instanceof CloseWebSocketFrame close) {
            peerClosed(connection, session, close);
        } else if (message instanceof WebSocketViolation violation) {
            violated(connection, session, violation);
        }
    }

    /**
     * The peer's close frame: the answer to ours, or its own, which is echoed with its code. Either way
     * the closing handshake is over and the server closes the connection.
     */
    private void peerClosed(Connection connection, WebSocketSession session, CloseWebSocketFrame close) {
        int code = close.statusCode();
        if (code > 4999) {
            // Netty takes every code from 3000 up; RFC 6455 7.4 defines none past 4999.
            violated(connection, session, new WebSocketViolation(WebSocket.PROTOCOL_ERROR, "invalid close code " + code));
            return;
        }
        boolean ours = session.sentClose();
        if (!ours && session.startClosing(code < 0 ? WebSocket.NORMAL_CLOSURE : code, "")) {
            // Echoed with the peer's code (RFC 6455 5.5.1); a close without one gets a 1000. A peer that
            // stops reading after its close is cut after the close timeout, not after the write-stall one.
            session.cutAfterCloseTimeout();
        }
        session.closed();
        connection.close();
        if (ours) {
            report(session, session.sentCode(), session.sentReason());
        } else {
            report(session, code < 0 ? 1005 : code, code < 0 ? "" : close.reasonText());
        }
    }

    /**
     * A protocol error of the peer: a close frame with its code (if none was sent yet), then the close; a
     * peer that does not read that far within the close timeout is cut.
     */
    private void violated(Connection connection, WebSocketSession session, WebSocketViolation violation) {
        connection.protocolError("WebSocket " + violation.code() + ": " + violation.reason());
        closeFor(connection, session, violation);
    }

    /** Answers a protocol error (already counted) with its close code, and closes. */
    private void closeFor(Connection connection, WebSocketSession session, WebSocketViolation violation) {
        if (session.startClosing(violation.code(), violation.reason())) {
            session.cutAfterCloseTimeout();
        }
        session.closed();
        connection.close();
        report(session, violation.code(), violation.reason());
    }

    /**
     * A fragmented message grew over the largest message (the aggregator's complaint, which the framework
     * has counted as a protocol error): 1009.
     */
    @Override
    public void onInputTooLong(Connection connection, TooLongFrameException cause) {
        closeFor(connection, WebSocketSession.any(connection),
                new WebSocketViolation(WebSocket.MESSAGE_TOO_BIG, "message over " + options.maxMessageSize() + " bytes"));
    }

    /** Quiet for the idle timeout: a ping, or a close when the last ping went unanswered. */
    @Override
    public void ping(Connection connection) {
        WebSocketSession session = WebSocketSession.any(connection);
        if (session.state() != WebSocketSession.OPEN || session.awaitingPong) {
            connection.close();
            return;
        }
        session.awaitingPong = true;
        connection.write(new PingWebSocketFrame());
    }

    /** The server stops: 1001, then the framework closes after pending writes. */
    @Override
    public void onShutdown(Connection connection) {
        WebSocketSession.any(connection).startClosing(WebSocket.GOING_AWAY, "server shutting down");
    }

    /** The peer ended its input without a close frame (or after it): the connection closes. */
    @Override
    public void onInputClosed(Connection connection) {
        connection.close();
    }

    @Override
    public void onReady(Connection connection) {
        WebSocketSession session = WebSocketSession.of(connection);
        if (session != null && session.state() == WebSocketSession.OPEN) {
            handler.onReady(session);
        }
    }

    /** Tells the handler of the close, unless it has been told. */
    @Override
    public void onClose(Connection connection) {
        WebSocketSession session = WebSocketSession.any(connection);
        if (session == null) {
            return;
        }
        session.closed();
        if (session.sentClose()) {
            report(session, session.sentCode(), session.sentReason());
        } else {
            report(session, 1006, "connection closed without a close frame");
        }
    }

    private void report(WebSocketSession session, int code, String reason) {
        if (!session.closeReported) {
            session.closeReported = true;
            handler.onClose(session, code, reason);
        }
    }

    /** The frame encoder, marked sharable: it holds nothing but its (final) settings. */
    @ChannelHandler.Sharable
    private static final class SharedFrameEncoder extends WebSocket13FrameEncoder {
        SharedFrameEncoder() {
            super(false);
        }
    }

    /** Whether an application may send this close code (RFC 6455 7.4.1 and 7.4.2). */
    static boolean validCloseCode(int code) {
        return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999;
    }
}
