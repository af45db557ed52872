package dev.serverframework.examples.bench;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One run of a {@link StopProbe}: opens the connections, starts a thread for each
 * ({@link ProbeConnection#loop()}), asks the server to stop after the delay, times the watched process's exit,
 * waits for every connection to end or the deadline to pass, and gathers the {@link StopResult}. Used once,
 * from the thread that calls {@link #execute}; its volatile fields are written by its helper threads.
 */
final class StopRun {
    /** After the deadline, how long threads get to notice it before their sockets are closed under them. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final StopProbe probe;
    private final StopClock clock;
    private final CountDownLatch allEnded;
    private volatile String stopError;
    private volatile long exitNanos;
    private volatile boolean exited;

    /** A run of {@code probe}, with its settings. */
    StopRun(StopProbe probe) {
        this.probe = probe;
        this.clock = new StopClock(probe.deadline.toNanos());
        this.allEnded = new CountDownLatch(probe.connections);
    }

    /** See {@link StopProbe#run}. */
    StopResult execute(Runnable stopAction) throws InterruptedException {
        List<ProbeConnection> conns = new ArrayList<>(probe.connections);
        for (int i = 0; i < probe.connections; i++) {
            try {
                conns.add(new ProbeConnection(i, open(), probe.request, probe.newFramer(), clock, allEnded));
            } catch (IOException e) {
                conns.forEach(ProbeConnection::closeQuietly);
                return result(conns, i, ProbeConnection.describe(e), false);
            }
        }
        List<Thread> threads = new ArrayList<>(probe.connections);
        try {
            for (ProbeConnection c : conns) {
                threads.add(daemon(c::loop, "stop-probe-" + c.index()));
            }
            // The full delay even when every connection has ended already, so "stop after" stays true.
            long stopAt = System.nanoTime() + probe.stopAfter.toNanos();
            for (long left = probe.stopAfter.toNanos(); left > 0; left = stopAt - System.nanoTime()) {
                TimeUnit.NANOSECONDS.sleep(left);
            }

            clock.stopNow();
            Thread trigger = daemon(() -> {
                try {
                    stopAction.run();
                } catch (Throwable t) {
                    stopError = t.getMessage() != null ? t.getMessage() : t.toString();
                }
            }, "stop-probe-trigger");
            Thread watcher = probe.watchExit == null ? null : daemon(this::watchExit, "stop-probe-exit-watch");

            long deadlineAt = clock.deadlineAt();
            allEnded.await(deadlineAt + GRACE_NANOS - System.nanoTime(), TimeUnit.NANOSECONDS);
            for (ProbeConnection c : conns) {
                c.abandon(); // only those that did not see the deadline themselves
            }
            for (Thread t : threads) {
                t.join(millisUntil(deadlineAt + 2 * GRACE_NANOS));
            }
            trigger.join(millisUntil(deadlineAt));
            if (trigger.isAlive() && stopError == null) {
                stopError = "the stop action was still running at the deadline";
            }
            if (watcher != null) {
                watcher.join(millisUntil(deadlineAt + GRACE_NANOS));
            }
            return result(conns, probe.connections, null, true);
        } finally {
            for (ProbeConnection c : conns) {
                c.abandon();
            }
        }
    }

    private static Thread daemon(Runnable task, String name) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Milliseconds until {@code nanoTime}, at least 1 (a join of 0 would wait forever). */
    private static long millisUntil(long nanoTime) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanoTime - System.nanoTime()));
    }

    private SocketChannel open() throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.socket().connect(probe.target, (int) Math.max(1, probe.connectTimeout.toMillis()));
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.configureBlocking(false);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Polls the watched process until it is gone or the deadline passes; exit time is good to a few ms. */
    private void watchExit() {
        long deadlineAt = clock.deadlineAt();
        while (true) {
            if (!probe.watchExit.isAlive()) {
                exitNanos = System.nanoTime();
                exited = true;
                return;
            }
            if (System.nanoTime() - deadlineAt > 0) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    private StopResult result(List<ProbeConnection> conns, int connected, String connectError, boolean triggered) {
        List<StopResult.ConnectionEnd> ends = new ArrayList<>();
        if (triggered) {
            for (ProbeConnection c : conns) {
                ends.add(c.end());
            }
        }
        double exitMillis = exited ? clock.millisSinceStop(exitNanos) : Double.NaN;
        return new StopResult(StopProbe.hostPort(probe.target), probe.protocol.name().toLowerCase(Locale.ROOT),
                probe.connections, connected, connectError, probe.stopLabel, probe.stopAfter.toNanos() / 1e6,
                probe.deadline.toNanos() / 1e6, triggered, stopError, ends, probe.watchExit != null, exitMillis);
    }
}
