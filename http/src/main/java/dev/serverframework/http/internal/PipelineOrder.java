package dev.serverframework.http.internal;

import dev.serverframework.http.HttpObserver;
import dev.serverframework.http.Response;
import io.netty.handler.codec.http.HttpMethod;

import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The HTTP state of one connection: it numbers the requests as they arrive and lets responses out only
 * in that order, so pipelined requests whose handlers finish out of order (asynchronous ones) are still
 * answered in order. Also counts requests for the per-connection limit, and stops once a response has
 * closed the connection. Used only on the connection's executor.
 */
public final class PipelineOrder {
    /**
     * A response that is ready but waits for earlier ones; {@code route}, {@code method} and
     * {@code startNanos} are for the {@link HttpObserver} (route null when there is none).
     */
    public record Ready(Response response, boolean http10, boolean head, boolean close, HttpObserver.Route route,
                 HttpMethod method, long startNanos) {
    }

    private long nextSequence;
    private long nextToWrite;
    /** Responses that finished before an earlier one; made on first use (idle connections are many). */
    private TreeMap<Long, Ready> waiting;
    private int requests;
    private boolean closing;
    private boolean inputClosed;

    /** Numbers a new request. */
    public long admit() {
        requests++;
        return nextSequence++;
    }

    /** Requests seen on this connection. */
    public int requests() {
        return requests;
    }

    /** True when every request admitted so far has had its response handed to the writer. */
    public boolean answeredAll() {
        return nextToWrite == nextSequence;
    }

    /** True once a response that closes the connection has been queued: later requests are dropped. */
    public boolean isClosing() {
        return closing;
    }

    /** The client half-closed: no request will follow those admitted. */
    public void inputClosed() {
        inputClosed = true;
    }

    /** Whether the client half-closed. */
    public boolean isInputClosed() {
        return inputClosed;
    }

    /** Marks that a response closes the connection (no later request will be answered). */
    public void closing() {
        closing = true;
    }

    /** Hands in a ready response; returns those that may go out now, in order. */
    public void complete(long sequence, Ready ready, Consumer<Ready> writer) {
        if (sequence == nextToWrite && (waiting == null || waiting.isEmpty())) {
            // The common case, one request at a time: no map, no boxing.
            nextToWrite++;
            writer.accept(ready);
            return;
        }
        if (waiting == null) {
            waiting = new TreeMap<>();
        }
        waiting.put(sequence, ready);
        Ready next;
        while ((next = waiting.remove(nextToWrite)) != null) {
            nextToWrite++;
            writer.accept(next);
            if (next.close()) {
                discardWaiting();
                return;
            }
        }
    }

    private void discardWaiting() {
        for (Ready r : waiting.values()) {
            if (r.response().body() instanceof Response.Buffer b) {
                b.content().release();
            }
            if (r.route() != null) {
                r.route().abandoned();
            }
        }
        waiting.clear();
    }
}
