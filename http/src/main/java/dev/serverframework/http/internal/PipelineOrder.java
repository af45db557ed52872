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
 *
 * <p>It also holds back a {@code 100 Continue} until the responses to the requests before it are out, so
 * that the interim answer never overtakes a final one.
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
    /** A route accepted to switch the connection to another protocol once its answer is out. */
    private boolean switching;
    /** Writes the {@code 100 Continue} owed to the request being received; null when none is owed. */
    private Runnable owedContinue;
    /** The number of the request the owed {@code 100 Continue} is for: it goes out when all before it have. */
    private long continueFor;

    private PipelineOrder() {
    }

    /** Gives a newly opened connection its HTTP state. */
    public static PipelineOrder open(Connection connection) {
        PipelineOrder order = new PipelineOrder();
        connection.attr(KEY).set(order);
        return order;
    }

    /** Takes the connection's HTTP state off it: it has switched to another protocol. */
    @SuppressWarnings("deprecation")
    public static void remove(Connection connection) {
        // Removed, not set to null: the connection may live on for hours as a WebSocket, and an emptied
        // attribute would keep its slot.
        connection.attr(KEY).getAndRemove();
    }

    /** The connection's HTTP state; null if it was never {@linkplain #open opened} for HTTP, or switched. */
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

    /** A route accepted to take the connection out of HTTP: no other may (its answer will never go out). */
    public void switching() {
        switching = true;
    }

    /** Whether a route has accepted to switch the connection. */
    public boolean isSwitching() {
        return switching;
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
     * The head of the next request asks for {@code 100 Continue} (the client holds its body back until then):
     * {@code send} writes the 100 as soon as every request admitted so far has its response written, at once
     * when they all have. A 100 still owed to an earlier request is dropped: that request's body has arrived
     * since, or it could not have been admitted. Nothing once the connection is closing.
     */
    public void continueExpected(Runnable send) {
        if (closing) {
            return;
        }
        if (answeredAll()) {
            send.run();
            return;
        }
        owedContinue = send;
        continueFor = nextSequence;
    }

    /** Writes the owed {@code 100 Continue} if the response just written was the last before its request. */
    private void continueIfDue() {
        if (owedContinue != null && nextToWrite == continueFor) {
            Runnable send = owedContinue;
            owedContinue = null;
            // Behind a response that closes the connection the body is not wanted any more.
            if (!closing) {
                send.run();
            }
        }
    }

    /**
     * Hands in an exchange whose response is ready; passes those that may go out now to {@code writer}, in
     * order, each followed by a {@code 100 Continue} owed to the request after it. Behind a response that closes
     * the connection, the waiting ones are abandoned.
     */
    public void complete(Exchange ready, Consumer<Exchange> writer) {
        if (ready.sequence() == nextToWrite && (waiting == null || waiting.isEmpty())) {
            // The common case, one request at a time: no map, no boxing.
            nextToWrite++;
            writer.accept(ready);
            continueIfDue();
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
            continueIfDue();
            if (next.endsHttp()) {
                waiting.values().forEach(Exchange::abandon);
                waiting.clear();
                return;
            }
        }
    }
}
