package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Worker;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * A server's tasks on its connections (the C original's {@code each}, {@code each_block} and
 * {@code fd_task}): each runs on its connection's executor, in order with the connection's callbacks.
 * Thread-safe.
 */
public final class Broadcasts {
    private static final Logger log = LoggerFactory.getLogger(Broadcasts.class);

    private final ServerRuntime server;

    /** @param server the runtime whose connections the tasks reach */
    public Broadcasts(ServerRuntime server) {
        this.server = server;
    }

    /**
     * See {@link dev.serverframework.core.Server#each(Connection, String, Consumer, Runnable)}. The targets are
     * grouped by executor, and each executor gets one task that runs the broadcast for all of its connections:
     * a broadcast to 10,000 connections costs a handful of queue hand-offs, not 10,000, and each connection's
     * task still runs on its executor, in order with its callbacks. On an I/O loop, what the tasks write is
     * flushed by a task queued after the batch, so a loop that has fallen behind sends the messages of
     * several broadcasts to a connection in one write.
     */
    public int each(Connection origin, String service, Consumer<Connection> task, Runnable onFinish) {
        Objects.requireNonNull(task, "task");
        List<ChannelConnection> targets = server.registry().select(service, origin);
        server.counters().onBroadcast(targets.size());
        Runnable finish = onFinish == null ? null : () -> runFinish(origin, onFinish);
        if (targets.isEmpty()) {
            if (finish != null) {
                finish.run();
            }
            return 0;
        }
        List<ExecutorBatch<ChannelConnection>> batches = ExecutorBatch.group(targets, c -> c);
        AtomicInteger remaining = new AtomicInteger(batches.size());
        Runnable countDown = () -> {
            if (remaining.decrementAndGet() == 0 && finish != null) {
                finish.run();
            }
        };
        CallbackRunner callbacks = server.callbacks();
        ExecutorBatch.dispatch(batches, c -> c, new ExecutorBatch.Body<>() {
            @Override
            public void here(ChannelConnection c) {
                callbacks.runTaskHere(c, task);
            }

            @Override
            public void moved(ChannelConnection c) {
                callbacks.runTask(c, task, null);
            }

            @Override
            public void rejected(ChannelConnection c) {
                // its executor has terminated: the connection is gone with its server
            }
        }, countDown);
        return targets.size();
    }

    private void runFinish(Connection origin, Runnable onFinish) {
        EventExecutor ex = origin != null ? origin.executor() : server.workerGroup().next();
        Runnable guarded = () -> {
            try {
                onFinish.run();
            } catch (Throwable t) {
                server.counters().onCallbackFailure();
                log.warn("An each() onFinish callback threw", t);
            }
        };
        try {
            ex.execute(guarded);
        } catch (RejectedExecutionException e) {
            guarded.run();
        }
    }

    /** See {@link dev.serverframework.core.Server#eachBlocking(Connection, String, Consumer)}. */
    public int eachBlocking(Connection origin, String service, Consumer<Connection> task) {
        Objects.requireNonNull(task, "task");
        EventLoopGroup ioGroup = server.ioGroup();
        if (ioGroup != null) {
            for (EventExecutor loop : ioGroup) {
                if (loop.inEventLoop()) {
                    throw new IllegalStateException("eachBlocking must not be called on an I/O event loop; use each");
                }
            }
        }
        List<ChannelConnection> targets = server.registry().select(service, origin);
        server.counters().onBroadcast(targets.size());
        Worker self = server.workerGroup().currentWorker();
        Thread waiter = Thread.currentThread();
        AtomicInteger remaining = new AtomicInteger(targets.size());
        CountDownLatch latch = self == null ? new CountDownLatch(1) : null;
        Runnable countDown = () -> {
            if (remaining.decrementAndGet() == 0) {
                if (latch != null) {
                    latch.countDown();
                } else {
                    LockSupport.unpark(waiter);
                }
            }
        };
        for (ChannelConnection c : targets) {
            Runnable run = () -> {
                try {
                    server.callbacks().runTask(c, task, null);
                } finally {
                    countDown.run();
                }
            };
            EventExecutor ex = c.executor();
            try {
                if (ex == self) {
                    run.run();
                } else if (ex instanceof Worker w) {
                    w.executeUrgent(run);
                } else {
                    ex.execute(run);
                }
            } catch (RejectedExecutionException e) {
                countDown.run();
            }
        }
        if (targets.isEmpty()) {
            return 0;
        }
        if (self != null) {
            self.helpUntil(() -> remaining.get() == 0);
        } else {
            awaitUninterruptibly(latch);
        }
        return targets.size();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** See {@link dev.serverframework.core.Server#task(long, Consumer, Runnable)}. */
    public void task(long connectionId, Consumer<Connection> task, Runnable fallback) {
        Objects.requireNonNull(task, "task");
        ChannelConnection c = server.registry().get(connectionId);
        if (c != null) {
            // Always through the executor's queue, even from the connection's own thread: a task made in a
            // callback runs after that callback (and its writes), never nested inside it.
            try {
                c.executor().execute(() -> server.callbacks().runTask(c, task, fallback));
            } catch (RejectedExecutionException e) {
                log.debug("Task for connection {} dropped: its executor has terminated", connectionId);
            }
        } else if (fallback != null) {
            server.workerGroup().next().execute(fallback);
        }
    }
}
