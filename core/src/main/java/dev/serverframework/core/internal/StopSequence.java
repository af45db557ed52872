package dev.serverframework.core.internal;

import dev.serverframework.core.ServerSettings;
import dev.serverframework.core.WorkerGroup;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A server's graceful stop, run on a thread of its own, all of it bounded by the grace period:
 * <ol>
 * <li>the listening sockets close, so no connection is accepted any more;</li>
 * <li>every open connection drains ({@link ChannelConnection#drain}): its protocol hears
 *     {@code onShutdown}; a connection quiet for the drain window closes at once, one active within it is
 *     still read for the window, and each closes after what it sent is answered, with a lingering close;</li>
 * <li>as soon as the last connection is done, the workers finish their queues (every {@code onClose}
 *     among them) and the event loops stop; what is still open when the grace period ends is cut.</li>
 * </ol>
 */
final class StopSequence {
    private static final Logger log = LoggerFactory.getLogger(StopSequence.class);

    private final ServerRuntime server;
    private final List<Channel> listeners;
    private final WorkerGroup workers;
    private final EventLoopGroup ioGroup;

    StopSequence(ServerRuntime server, List<Channel> listeners) {
        this.server = server;
        this.listeners = listeners;
        this.workers = server.workerGroup();
        this.ioGroup = server.ioGroup();
    }

    /** Runs the stop; returns when every thread of the server has been released. */
    void run() throws InterruptedException {
        ServerSettings settings = server.settings();
        long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
        for (Channel l : listeners) {
            l.close().syncUninterruptibly();
        }
        List<ChannelConnection> open = server.registry().all();
        log.info("Stopping the server on port {}: {} connection(s) open", server.port(), open.size());
        long windowNanos = settings.drainWindow().toNanos();
        for (ChannelConnection c : open) {
            try {
                c.ioLoop().execute(() -> c.drain(windowNanos));
            } catch (RejectedExecutionException e) {
                c.abort();
            }
        }
        if (!awaitAllClosed(deadline)) {
            List<ChannelConnection> left = server.registry().all();
            log.warn("{} connection(s) still open after the {} ms grace period; cutting them", left.size(),
                    settings.shutdownGrace().toMillis());
            for (ChannelConnection c : left) {
                c.abort();
            }
            awaitAllClosed(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
        }
        // Every onClose is queued on its worker by now; a graceful shutdown runs them all.
        long remaining = Math.max(0, deadline - System.nanoTime());
        if (!workers.shutdownGracefully(0, remaining, TimeUnit.NANOSECONDS)
                .await(remaining + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS)) {
            log.warn("Workers still busy after the grace period; leaving them behind");
        }
        ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }

    /**
     * Waits until no connection is open and each has handed its close to its protocol, or the deadline;
     * connections accepted while the stop began are in a later look at the registry.
     */
    private boolean awaitAllClosed(long deadline) throws InterruptedException {
        while (true) {
            List<ChannelConnection> open = server.registry().all();
            if (open.isEmpty()) {
                return true;
            }
            for (ChannelConnection c : open) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !c.closeDispatchedFuture().await(left, TimeUnit.NANOSECONDS)) {
                    return false;
                }
            }
        }
    }
}
