package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Runs connections' protocol callbacks and tasks on each connection's executor, one at a time and in
 * order: marks the connection busy meanwhile, contains a callback that throws (counted, logged once, the
 * connection cut), and releases the message a callback was given. One per server, shared by its
 * connections (what is per connection, the busy mark, stays on the connection); any thread.
 */
final class CallbackRunner {
    private static final Logger log = LoggerFactory.getLogger(CallbackRunner.class);
    /** Runs a one-argument task through the two-argument form: one shared function, no allocation per call. */
    private static final BiConsumer<Connection, Consumer<Connection>> RUN_CONSUMER = (c, task) -> task.accept(c);

    private final ServerCounters counters;

    CallbackRunner(ServerCounters counters) {
        this.counters = counters;
    }

    /** Runs a callback on the connection's executor, inline when already there. */
    void run(ChannelConnection connection, Runnable callback) {
        EventExecutor ex = connection.executor();
        if (ex.inEventLoop()) {
            invoke(connection, callback, null);
        } else {
            try {
                ex.execute(() -> invoke(connection, callback, null));
            } catch (RejectedExecutionException e) {
                log.debug("Connection {}: callback dropped, executor has terminated", connection.id());
            }
        }
    }

    /** Runs a user task for the connection, or {@code fallback} when it has closed, on its executor. */
    void runTask(ChannelConnection connection, Consumer<Connection> task, Runnable fallback) {
        run(connection, () -> {
            if (connection.isOpen()) {
                task.accept(connection);
            } else if (fallback != null) {
                fallback.run();
            }
        });
    }

    /**
     * Runs a task for the connection here and now, if it is still open: the caller is on the connection's
     * executor (a broadcast's batch). No allocation, which a broadcast to many connections would pay each time.
     */
    void runTaskHere(ChannelConnection connection, Consumer<Connection> task) {
        runTaskHere(connection, RUN_CONSUMER, task);
    }

    /**
     * {@link #runTaskHere(ChannelConnection, Consumer)} for a task that takes an argument too (a published
     * message for a subscriber's handler), so that a delivery to many subscribers allocates nothing each.
     */
    <A> void runTaskHere(ChannelConnection connection, BiConsumer<Connection, A> task, A argument) {
        if (!connection.isOpen()) {
            return;
        }
        connection.busy(true);
        try {
            task.accept(connection, argument);
        } catch (Throwable t) {
            failed(connection, t);
        } finally {
            connection.busy(false);
        }
    }

    /**
     * Runs a callback here and now, on the connection's executor, and then releases {@code message}
     * (when not null) whatever the callback did: it retains what it keeps.
     */
    void invoke(ChannelConnection connection, Runnable callback, Object message) {
        connection.busy(true);
        try {
            callback.run();
        } catch (Throwable t) {
            failed(connection, t);
        } finally {
            connection.busy(false);
            if (message != null) {
                ReferenceCountUtil.release(message);
            }
        }
    }

    private void failed(ChannelConnection connection, Throwable t) {
        counters.onCallbackFailure();
        log.warn("Connection {} ({}): a protocol callback threw; closing the connection", connection.id(),
                connection.service(), t);
        connection.abort();
    }
}
