package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.http.sse.SseEvent;
import dev.serverframework.http.sse.SseStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One connection's Server-Sent Events stream: what the request said (target, path parameters,
 * {@code Last-Event-ID}, HTTP/1.0 or 1.1), whether the stream is open, and how many bytes wait for the
 * client. Made by the {@link SseRoute} when it accepts a request, kept in a connection attribute; the
 * sending side is thread-safe, the rest runs on the connection's executor (through {@link SseProtocol}).
 *
 * <p><b>Framing.</b> Each event or comment is one write of one buffer: a chunk ({@code size CRLF bytes CRLF})
 * for an HTTP/1.1 client, the bare bytes for an HTTP/1.0 one. The end is the last chunk ({@code 0 CRLF CRLF})
 * then the close, or the close alone for HTTP/1.0; both are written in one task of the I/O loop, so an event
 * that races the end goes out before them or is dropped by the closing connection, never after the last
 * chunk.
 */
public final class SseSession extends SwitchedSession implements SseStream {
    private static final Logger log = LoggerFactory.getLogger(SseSession.class);
    private static final ConnectionSlot<SseSession> SLOT = new ConnectionSlot<>(SseSession.class);

    /** Accepted, the head on its way: nothing may be sent yet. */
    static final int CONNECTING = 0;
    /** The head is out and the connection has switched: events may be sent. */
    static final int OPEN = 1;
    /** The stream has ended (or the connection closed): nothing more is sent. */
    static final int ENDED = 2;

    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEARTBEAT = ": heartbeat\n".getBytes(StandardCharsets.US_ASCII);
    private static final int CRLF = ('\r' << 8) | '\n';

    private static final AtomicIntegerFieldUpdater<SseSession> STATE =
            AtomicIntegerFieldUpdater.newUpdater(SseSession.class, "state");

    private final SseProtocol protocol;
    private final String lastEventId;
    /** HTTP/1.1: every write is a chunk, and the end is the last chunk. HTTP/1.0: the close ends the body. */
    private final boolean chunked;
    private volatile int state;
    /** Executor only: bytes the client sent on the stream, all discarded. */
    long discarded;
    /** Executor only: the handler has been told of the close. */
    boolean closeReported;

    SseSession(Connection connection, SseProtocol protocol, String uri, Map<String, String> pathParams,
               String lastEventId, boolean chunked) {
        super(connection, uri, pathParams);
        this.protocol = protocol;
        this.lastEventId = lastEventId;
        this.chunked = chunked;
    }

    /**
     * The stream of a connection whose head is out (open or ended), or null: the connection is no stream, or
     * its head still waits for its turn. Any thread.
     */
    public static SseSession of(Connection connection) {
        SseSession s = SLOT.get(connection);
        return s == null || s.state == CONNECTING ? null : s;
    }

    /** The session of the connection, whatever its state; null when there is none. */
    static SseSession any(Connection connection) {
        return SLOT.get(connection);
    }

    /** The session of the channel (a connection's attributes are its channel's), whatever its state. */
    static SseSession any(Channel channel) {
        return SLOT.get(channel);
    }

    static void attach(Connection connection, SseSession session) {
        SLOT.set(connection, session);
    }

    static void detach(Connection connection) {
        SLOT.remove(connection);
    }

    /**
     * The head is out and the connection is switching: sends are allowed from now on. On the I/O loop, as
     * the stream's pipeline is built; that is before {@code Server.each} can find the connection under the
     * stream's service, so a broadcast always finds it open.
     */
    void opened() {
        STATE.compareAndSet(this, CONNECTING, OPEN);
    }

    int state() {
        return state;
    }

    @Override
    public String lastEventId() {
        return lastEventId;
    }

    @Override
    public boolean send(SseEvent event) {
        Objects.requireNonNull(event, "event");
        return state == OPEN && enqueue(event.encoded());
    }

    @Override
    public boolean comment(String text) {
        Objects.requireNonNull(text, "text");
        return state == OPEN && enqueue(encodeComment(text));
    }

    /** The idle timeout passed: a comment line, so that the client and the proxies see the stream alive. */
    boolean heartbeat() {
        return state == OPEN && enqueue(HEARTBEAT);
    }

    /** One {@code :} line per line of the text (CR LF, CR and LF all end a line), as a comment cannot span lines. */
    static byte[] encodeComment(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 4);
        int start = 0;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n') {
                line(sb, text, start, i);
                if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        line(sb, text, start, n);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void line(StringBuilder sb, String text, int from, int to) {
        sb.append(':');
        if (to > from) {
            sb.append(' ').append(text, from, to);
        }
        sb.append('\n');
    }

    /**
     * Writes one framed event unless it would put the client over its queue limit; then the stream is ended
     * as too slow instead. Counts the framed bytes until the transport has taken them.
     */
    private boolean enqueue(byte[] body) {
        int bytes = chunked ? body.length + Integer.toHexString(body.length).length() + 4 : body.length;
        long limit = protocol.options().maxQueuedBytes();
        // Checked before the framed buffer is made: a refused event costs no allocation.
        if (queuedBytes() + bytes > limit) {
            tooSlow(limit);
            return false;
        }
        return writeCounted(frame(body, bytes), bytes, limit);
    }

    /** The write of one event: a chunk for HTTP/1.1, in one buffer; the shared bytes themselves for HTTP/1.0. */
    private ByteBuf frame(byte[] body, int framedBytes) {
        if (!chunked) {
            return Unpooled.wrappedBuffer(body);
        }
        ByteBuf buf = connection.alloc().buffer(framedBytes);
        buf.writeCharSequence(Integer.toHexString(body.length), StandardCharsets.US_ASCII);
        buf.writeShort(CRLF);
        buf.writeBytes(body);
        buf.writeShort(CRLF);
        return buf;
    }

    /**
     * The client reads too slowly: the stream ends after what is queued, the connection closes after it, and
     * is cut if the client has not read it all within the drop grace.
     */
    @Override
    void tooSlow(long limit) {
        if (end()) {
            log.debug("SSE stream {} ended: more than {} bytes queued for it", connection.id(), limit);
            afterDelay(protocol.options().dropGrace().toNanos(), connection::abort);
        }
    }

    @Override
    public void close() {
        end();
    }

    /**
     * Ends the stream, once: the last chunk (HTTP/1.1) goes out after the events sent before, then the
     * connection closes. False when it had ended already. Any thread.
     */
    boolean end() {
        int s;
        do {
            s = state;
            if (s == ENDED) {
                return false;
            }
        } while (!STATE.compareAndSet(this, s, ENDED));
        boolean lastChunk = s == OPEN && chunked;
        // The last chunk and the close in one task of the I/O loop: an event another thread writes meanwhile
        // comes before both or after the close, which drops it; never between them.
        Runnable finish = () -> {
            if (lastChunk) {
                connection.write(Unpooled.wrappedBuffer(LAST_CHUNK));
            }
            connection.close();
        };
        if (connection.ioLoop().inEventLoop()) {
            finish.run();
        } else {
            try {
                connection.ioLoop().execute(finish);
            } catch (RejectedExecutionException e) {
                connection.abort();
            }
        }
        return true;
    }

    /** The connection has closed: nothing more can be sent. On the connection's executor. */
    void closed() {
        state = ENDED;
    }

    @Override
    public boolean isOpen() {
        return state == OPEN && connection.isOpen();
    }

    @Override
    public String toString() {
        return "SseStream[connection " + connection.id() + ", " + uri() + "]";
    }
}
