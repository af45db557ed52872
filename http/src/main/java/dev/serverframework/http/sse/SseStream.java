package dev.serverframework.http.sse;

import dev.serverframework.core.Connection;
import dev.serverframework.http.internal.SseSession;

import java.util.Map;

/**
 * One open {@code text/event-stream} response as an {@link SseHandler} sees it. {@code Server.each}
 * reaches it like any connection: {@code server.each("news", c -> SseStream.of(c).send(event))}.
 *
 * <p><b>Threads.</b> Every method may be called from any thread; events keep the order of the calls made on
 * one thread (the connection's executor keeps the order with everything else it writes).
 *
 * <p><b>Slow readers.</b> Bytes sent and not yet taken by the transport are counted; a send that would put
 * more than the route's {@link SseOptions.Builder#maxQueuedBytes} in the queue ends the stream instead, and
 * a client that does not read even its end is cut after a grace period.
 */
public interface SseStream {

    /**
     * The stream on this connection (open or ended), or null when the connection is not one, or its
     * response head still waits for its turn. Every connection {@code Server.each} finds under the route's
     * service has one. Any thread.
     */
    static SseStream of(Connection connection) {
        return SseSession.of(connection);
    }

    /** The connection underneath. */
    Connection connection();

    /** The request target that opened the stream, path and query. */
    String uri();

    /** The path parameters of the route template the request matched. */
    Map<String, String> pathParams();

    /** A path parameter of the route template, or null. */
    default String pathParam(String name) {
        return pathParams().get(name);
    }

    /** The {@code Last-Event-ID} a reconnecting client sent, or null. */
    String lastEventId();

    /**
     * Sends an event. Returns false, sending nothing, when the stream has ended, or when the client reads
     * too slowly (the stream is then ended).
     */
    boolean send(SseEvent event);

    /** Sends an event with only data; see {@link #send(SseEvent)}. */
    default boolean send(String data) {
        return send(SseEvent.data(data));
    }

    /**
     * Sends a comment line (clients ignore it; it keeps proxies from timing the stream out); text with line
     * breaks becomes one comment line per line. Returns false as {@link #send(SseEvent)} does.
     */
    boolean comment(String text);

    /** Ends the stream after the events sent before, and closes the connection. */
    void close();

    /** True until the stream ends. */
    boolean isOpen();

    /** Bytes sent to this stream that the transport has not taken yet. */
    long queuedBytes();
}
