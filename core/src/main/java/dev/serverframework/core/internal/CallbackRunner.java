package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Runs a connection's protocol callbacks and tasks on its executor, one at a time and in order: marks the
 * connection busy meanwhile, contains a callback that throws (counted, logged once, the connection cut),
 * and releases the message a callback was given. One per connection.
 */
final class CallbackRunner {
    private static final Logger log = LoggerFactory.getLogger(CallbackRunner.class);

    private final Connection connection;
    private final ServerCounters counters;
    private volatile boolean busy;

    CallbackRunner(Connection connection, ServerCounters counters) {
        this.connection = connection;
        this.counters = counters;
    }

    /** Whether a callback or task of this connection is running now. Any thread. */
    boolean isBusy() {
        return busy;
    }

    /** Runs a callback on the connection's executor, inline when already there. Any thread. */
    void run(Runnable callback) {
        EventExecutor ex = connection.executor();
        if (ex.inEventLoop()) {
            invoke(callback, null);
        } else {
            try {
                ex.execute(() -> invoke(callback, null));
            } catch (RejectedExecutionException e) {
                log.debug("Connection {}: callback dropped, executor has terminated", connection.id());
            }
        }
    }

    /** Runs a user task for the connection, or {@code fallback} when it has closed. On its executor. */
    void runTask(Consumer<Connection> task, Runnable fallback) {
        run(() -> {
            if (connection.isOpen()) {
                task.accept(connection);
            } else if (fallback != null) {
                fallback.run();
            }
        });
    }

    /**
     * Runs a callback here and now, on the connection's executor, and then releases {@code message}
     * (when not null) whatever the callback did: it retains what it keeps.
     */
    void invoke(Runnable callback, Object message) {
        busy = true;
        try {
            callback.run();
        } catch (Throwable t) {
            counters.onCallbackFailure();
            log.warn("Connection {} ({}): a protocol callback threw; closing the connection", connection.id(),
                    connection.service(), t);
            connection.abort();
        } finally {
            busy = false;
            if (message != null) {
                ReferenceCountUtil.release(message);
            }
        }
    }
}
