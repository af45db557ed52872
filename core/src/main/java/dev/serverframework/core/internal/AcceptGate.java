package dev.serverframework.core.internal;

import io.netty.channel.Channel;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pauses accepting on a server's listening sockets when taking more connections would only hurt:
 * while the refused connections being answered hold as many files as the server can spare for them, and
 * for a moment after an accept failed (no file descriptor left). Clients then wait in the kernel's
 * backlog and are accepted, and answered, a moment later, instead of being closed unanswered (which a
 * client that has sent its request sees as a reset). Thread-safe.
 */
final class AcceptGate {
    private final List<Channel> listeners;
    private final int maxRefusals;
    private final AtomicInteger refusals = new AtomicInteger();
    /** Guarded by this. */
    private boolean refusalsFull;
    /** Guarded by this: until when an accept failure keeps accepting paused ({@link System#nanoTime()}). */
    private long failurePauseUntil;
    private boolean failurePauseSet;

    /**
     * @param listeners   the server's listening sockets (filled in as they are bound)
     * @param maxRefusals refused connections that may be answered at once
     */
    AcceptGate(List<Channel> listeners, int maxRefusals) {
        this.listeners = listeners;
        this.maxRefusals = maxRefusals;
    }

    /** A refused connection is being answered; at the limit, accepting pauses until some are done. */
    void refusalStarted() {
        if (refusals.incrementAndGet() >= maxRefusals) {
            synchronized (this) {
                refusalsFull = true;
                update();
            }
        }
    }

    /** A refused connection is closed; under half the limit, accepting resumes. */
    void refusalEnded() {
        if (refusals.decrementAndGet() <= maxRefusals / 2) {
            synchronized (this) {
                if (refusalsFull) {
                    refusalsFull = false;
                    update();
                }
            }
        }
    }

    /** Accepting failed (as Netty's own acceptor does, pause for a moment and try again). */
    synchronized void acceptFailed(long pauseMillis) {
        failurePauseUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pauseMillis);
        failurePauseSet = true;
        update();
        if (!listeners.isEmpty()) {
            listeners.get(0).eventLoop().schedule(this::failurePauseOver, pauseMillis, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void failurePauseOver() {
        if (failurePauseSet && System.nanoTime() - failurePauseUntil >= 0) {
            failurePauseSet = false;
            update();
        }
    }

    /** Whether accepting is paused now. */
    synchronized boolean isPaused() {
        return refusalsFull || failurePauseSet;
    }

    /** On each listener's loop, in the order decided here (called under the lock). */
    private void update() {
        boolean accept = !refusalsFull && !failurePauseSet;
        for (Channel l : listeners) {
            l.eventLoop().execute(() -> l.config().setAutoRead(accept));
        }
    }
}
