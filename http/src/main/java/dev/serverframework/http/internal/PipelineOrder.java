package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import io.netty.util.AttributeKey;

import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The HTTP state of one connection: it numbers the requests as they arrive and lets responses out only
 * in that order, so pipelined requests whose handlers finish out of order (asynchronous ones) are still
 * answered in order. Also counts requests for the per-connection limit, remembers a half-close, and
 * stops once a response has closed the connection. Kept in the connection's attribute of a key of its
 * own, so the application's handlers have the connection's other attributes to themselves. Used only on
 * the connection's executor.
 */
public final class PipelineOrder {
    private static final AttributeKey<PipelineOrder> KEY = AttributeKey.valueOf(PipelineOrder.class, "order");

    private long nextSequence;
    private long nextToWrite;
    /** Responses that finished before an earlier one; made on first use (idle connections are many). */
    private TreeMap<Long, Exchange> waiting;
    private int requests;
    private boolean closing;
    private boolean inputClosed;

    private PipelineOrder() {
    }

    /** Gives a newly opened connection its HTTP state. */
    public static PipelineOrder open(Connection connection) {
        PipelineOrder order = new PipelineOrder();
        connection.attr(KEY).set(order);
        return order;
    }

    /** The connection's HTTP state; null if it was never {@linkplain #open opened} for HTTP. */
    public static PipelineOrder of(Connection connection) {
        return connection.attr(KEY).get();
    }

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

    /** True once a response that closes the connection has been decided on: later requests are dropped. */
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

    /**
     * Hands in an exchange whose response is ready; passes those that may go out now to {@code writer}, in
     * order. Behind a response that closes the connection, the waiting ones are abandoned.
     */
    public void complete(Exchange ready, Consumer<Exchange> writer) {
        if (ready.sequence() == nextToWrite && (waiting == null || waiting.isEmpty())) {
            // The common case, one request at a time: no map, no boxing.
            nextToWrite++;
            writer.accept(ready);
            return;
        }
        if (waiting == null) {
            waiting = new TreeMap<>();
        }
        waiting.put(ready.sequence(), ready);
        Exchange next;
        while ((next = waiting.remove(nextToWrite)) != null) {
            nextToWrite++;
            writer.accept(next);
            if (next.closes()) {
                waiting.values().forEach(Exchange::abandon);
                waiting.clear();
                return;
            }
        }
    }
}
