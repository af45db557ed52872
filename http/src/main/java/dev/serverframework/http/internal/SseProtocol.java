package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.http.sse.SseHandler;
import dev.serverframework.http.sse.SseOptions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Server-Sent Events stream as a core {@link Protocol}, switched to from HTTP by an {@link SseRoute} once
 * the response head is out. No codecs: the stream only writes, and the {@link SseSession} frames each event.
 *
 * <p><b>Callbacks.</b> The handler hears of the open and, once, of the close. The idle timeout is the
 * heartbeat interval, and {@link #ping} writes a comment line: any write postpones it, so a heartbeat goes
 * out only after a quiet interval. A stop, or a client that half-closes, ends the stream (its last chunk)
 * and closes the connection. What the client sends is discarded (it has nothing to say on a stream, and a
 * request pipelined behind the stream's is never answered); one that sends more than
 * {@value #MAX_DISCARDED} bytes is counted as a protocol error and its stream ended. One per route, shared by
 * its connections; every callback on the connection's executor.
 */
final class SseProtocol implements Protocol<ByteBuf> {
    private static final Logger log = LoggerFactory.getLogger(SseProtocol.class);

    /** Input a client may send on a stream before it is taken for a misbehaving one: a few request heads. */
    static final int MAX_DISCARDED = 16 * 1024;

    private final SseOptions options;
    private final SseHandler handler;
    private final Execution execution;

    SseProtocol(SseOptions options, SseHandler handler, Execution execution) {
        this.options = options;
        this.handler = handler;
        this.execution = execution;
    }

    SseOptions options() {
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
     * No codecs; marks the stream open, since the head is out by now. On the I/O loop, as the connection
     * switches.
     */
    @Override
    public void initPipeline(ChannelPipeline p) {
        SseSession session = SseSession.any(p.channel());
        if (session != null) {
            session.opened();
        }
    }

    /** The stream is open: the idle timeout becomes the heartbeat interval, and the handler hears of it. */
    @Override
    public void onOpen(Connection connection) {
        connection.idleTimeout(options.heartbeat());
        handler.onOpen(SseSession.any(connection));
    }

    /** Input on a stream: discarded (the framework releases it); too much of it ends the stream. */
    @Override
    public void onData(Connection connection, ByteBuf message) {
        SseSession session = SseSession.any(connection);
        session.discarded += message.readableBytes();
        if (session.discarded > MAX_DISCARDED && session.state() == SseSession.OPEN) {
            connection.protocolError("SSE client sent more than " + MAX_DISCARDED + " bytes");
            log.debug("SSE stream {} ended: its client sent more than {} bytes", connection.id(), MAX_DISCARDED);
            session.end();
        }
    }

    /** Quiet for the heartbeat interval: a comment line; an ended stream that is still open closes. */
    @Override
    public void ping(Connection connection) {
        if (!SseSession.any(connection).heartbeat()) {
            connection.close();
        }
    }

    /** The server stops: the stream ends, and the connection closes after its last chunk. */
    @Override
    public void onShutdown(Connection connection) {
        SseSession.any(connection).end();
    }

    /** The client half-closed: it is going away, so the stream ends and the connection closes. */
    @Override
    public void onInputClosed(Connection connection) {
        if (!SseSession.any(connection).end()) {
            connection.close();
        }
    }

    /** Tells the handler of the close, once. */
    @Override
    public void onClose(Connection connection) {
        SseSession session = SseSession.any(connection);
        if (session == null) {
            return;
        }
        session.closed();
        if (!session.closeReported) {
            session.closeReported = true;
            handler.onClose(session);
        }
    }
}
