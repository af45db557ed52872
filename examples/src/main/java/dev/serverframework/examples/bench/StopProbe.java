package dev.serverframework.examples.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The graceful-stop client: N keep-alive connections, each in a closed loop (its next request goes out as soon
 * as the previous reply has arrived); after a delay the server is asked to stop, and the probe classifies how
 * each connection really ended on the wire ({@link StopOutcome}), exactly once.
 *
 * <p>One platform thread per connection, on a non-blocking {@link SocketChannel} with a selector of its own,
 * so that no read blocks past the deadline and so that, before sending each request, the connection can look
 * for an EOF or a reset that has already arrived without waiting: that is what tells "the server closed
 * between replies" ({@link StopOutcome#CLOSED_AFTER_ANSWER}) from "the server closed with our request
 * outstanding" ({@link StopOutcome#CLOSED_UNANSWERED}). A read returning -1 is a clean EOF; an
 * {@link IOException} saying "Connection reset" or "Broken pipe", from a read or a write, is a reset.
 *
 * <pre>{@code
 * StopResult r = StopProbe.builder(new InetSocketAddress("127.0.0.1", port))
 *         .connections(8).stopAfter(Duration.ofMillis(300)).deadline(Duration.ofSeconds(10))
 *         .build()
 *         .run(() -> server.stop());
 * assertEquals(8, r.count(StopOutcome.ANSWERED_CLOSE));
 * }</pre>
 */
public final class StopProbe {
    /** What the connections speak. */
    public enum Protocol {
        /** HTTP/1.1 {@code GET} with keep-alive, replies framed by {@code Content-Length}. */
        HTTP,
        /** Redis protocol: {@code PING}, expecting {@code +PONG} (any complete reply is an answer). */
        RESP;

        /** "http" or "resp", any case. */
        public static Protocol parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--protocol must be http or resp, got " + s);
            }
        }
    }

    /** How long one wait for the socket lasts at most, so the deadline is seen soon after it passes. */
    private static final long POLL_MILLIS = 100;
    /** After the deadline, how long threads get to notice it before their sockets are closed under them. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final byte[] PING = "*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII);

    private final InetSocketAddress target;
    private final Protocol protocol;
    private final int connections;
    private final Duration stopAfter;
    private final Duration deadline;
    private final Duration connectTimeout;
    private final int expectStatus;
    private final String expectBody;
    private final String stopLabel;
    private final ProcessHandle watchExit;
    private final byte[] request;

    private StopProbe(Builder b) {
        this.target = b.target;
        this.protocol = b.protocol;
        this.connections = b.connections;
        this.stopAfter = b.stopAfter;
        this.deadline = b.deadline;
        this.connectTimeout = b.connectTimeout;
        this.expectStatus = b.expectStatus;
        this.expectBody = b.expectBody;
        this.stopLabel = b.stopLabel;
        this.watchExit = b.watchExit;
        String host = b.hostHeader != null ? b.hostHeader : hostPort(target);
        this.request = protocol == Protocol.RESP ? PING
                : ("GET " + b.path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** A probe of the server at {@code target}; every setting has a default (see {@link Builder}). */
    public static Builder builder(InetSocketAddress target) {
        return new Builder(target);
    }

    /** Settings of a probe. */
    public static final class Builder {
        private final InetSocketAddress target;
        private Protocol protocol = Protocol.HTTP;
        private int connections = 64;
        private Duration stopAfter = Duration.ofSeconds(3);
        private Duration deadline = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private String path = "/";
        private String hostHeader;
        private int expectStatus = 200;
        private String expectBody;
        private String stopLabel = "stop action";
        private ProcessHandle watchExit;

        private Builder(InetSocketAddress target) {
            this.target = Objects.requireNonNull(target, "target");
        }

        /** HTTP (default) or RESP. */
        public Builder protocol(Protocol p) {
            this.protocol = Objects.requireNonNull(p, "protocol");
            return this;
        }

        /** Keep-alive connections, each one request at a time (default 64). */
        public Builder connections(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("connections must be at least 1, got " + n);
            }
            this.connections = n;
            return this;
        }

        /** How long the loops run before the stop action (default 3 s). */
        public Builder stopAfter(Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("stop-after must not be negative, got " + d);
            }
            this.stopAfter = d;
            return this;
        }

        /** How long after the stop to wait for connections to end; those still open then are STILL_OPEN (30 s). */
        public Builder deadline(Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("deadline must be more than 0, got " + d);
            }
            this.deadline = d;
            return this;
        }

        /** Limit for each connect (default 5 s). */
        public Builder connectTimeout(Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("connect timeout must be more than 0, got " + d);
            }
            this.connectTimeout = d;
            return this;
        }

        /** HTTP: the path requested (default "/"). */
        public Builder path(String p) {
            if (p == null || !p.startsWith("/") || p.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
                throw new IllegalArgumentException("path must start with / and contain no spaces or control "
                        + "characters, got " + p);
            }
            this.path = p;
            return this;
        }

        /** HTTP: the Host header (default: the target's host:port). */
        public Builder hostHeader(String h) {
            this.hostHeader = h;
            return this;
        }

        /** HTTP: the status every response must have (default 200; 0 accepts any final status). */
        public Builder expectStatus(int s) {
            if (s != 0 && (s < 200 || s > 999)) {
                throw new IllegalArgumentException("expected status must be 0 or 200..999, got " + s);
            }
            this.expectStatus = s;
            return this;
        }

        /** HTTP: the exact body every response must have (default: not checked). */
        public Builder expectBody(String b) {
            this.expectBody = b;
            return this;
        }

        /** What the stop action is, for the report (e.g. "SIGTERM to pid 1234"). */
        public Builder stopLabel(String label) {
            this.stopLabel = Objects.requireNonNull(label, "stopLabel");
            return this;
        }

        /** A process whose exit after the stop is timed (bounded by the deadline); null for none. */
        public Builder watchExit(ProcessHandle process) {
            this.watchExit = process;
            return this;
        }

        /** The probe; it can be run more than once. */
        public StopProbe build() {
            return new StopProbe(this);
        }
    }

    /**
     * Opens every connection (giving up, without stopping anything, at the first that fails), runs the closed
     * loops for the stop-after delay, runs {@code stopAction} on a thread of its own (so a slow action does not
     * delay the measurement; what it throws is reported as the stop error), then waits until every connection
     * has ended or the deadline has passed.
     *
     * @param stopAction asks the server to stop: sends a signal, runs a command, or (in tests) stops a server
     * @return how every connection ended, and the counts
     * @throws InterruptedException when the calling thread is interrupted (the connections are closed)
     */
    public StopResult run(Runnable stopAction) throws InterruptedException {
        return new Run().execute(Objects.requireNonNull(stopAction, "stopAction"));
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** The state of one run, shared by its threads. */
    private final class Run {
        private final CountDownLatch allEnded = new CountDownLatch(connections);
        private volatile boolean stopped;
        private volatile long stopNanos;
        private volatile String stopError;
        private volatile long exitNanos;
        private volatile boolean exited;

        StopResult execute(Runnable stopAction) throws InterruptedException {
            List<Conn> conns = new ArrayList<>(connections);
            for (int i = 0; i < connections; i++) {
                try {
                    conns.add(new Conn(i, open()));
                } catch (IOException e) {
                    conns.forEach(Conn::closeQuietly);
                    return result(conns, i, describe(e), false);
                }
            }
            List<Thread> threads = new ArrayList<>(connections);
            try {
                for (Conn c : conns) {
                    Thread t = new Thread(c::loop, "stop-probe-" + c.index);
                    t.setDaemon(true);
                    threads.add(t);
                    t.start();
                }
                // The full delay even when every connection has ended already, so "stop after" stays true.
                long stopAt = System.nanoTime() + stopAfter.toNanos();
                for (long left = stopAfter.toNanos(); left > 0; left = stopAt - System.nanoTime()) {
                    TimeUnit.NANOSECONDS.sleep(left);
                }

                stopNanos = System.nanoTime();
                stopped = true;
                Thread trigger = new Thread(() -> {
                    try {
                        stopAction.run();
                    } catch (Throwable t) {
                        stopError = t.getMessage() != null ? t.getMessage() : t.toString();
                    }
                }, "stop-probe-trigger");
                trigger.setDaemon(true);
                trigger.start();
                Thread watcher = null;
                if (watchExit != null) {
                    watcher = new Thread(this::watchExit, "stop-probe-exit-watch");
                    watcher.setDaemon(true);
                    watcher.start();
                }

                long deadlineAt = stopNanos + deadline.toNanos();
                allEnded.await(deadlineAt + GRACE_NANOS - System.nanoTime(), TimeUnit.NANOSECONDS);
                for (Conn c : conns) {
                    c.abandon(); // only those that did not see the deadline themselves
                }
                for (Thread t : threads) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineAt + 2 * GRACE_NANOS
                            - System.nanoTime())));
                }
                trigger.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineAt - System.nanoTime())));
                if (trigger.isAlive() && stopError == null) {
                    stopError = "the stop action was still running at the deadline";
                }
                if (watcher != null) {
                    watcher.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineAt + GRACE_NANOS
                            - System.nanoTime())));
                }
                return result(conns, connections, null, true);
            } finally {
                for (Conn c : conns) {
                    c.abandon();
                }
            }
        }

        private SocketChannel open() throws IOException {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.socket().connect(target, (int) Math.max(1, connectTimeout.toMillis()));
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
            long deadlineAt = stopNanos + deadline.toNanos();
            while (true) {
                if (!watchExit.isAlive()) {
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

        /** Nanoseconds left until the deadline; {@link Long#MAX_VALUE} before the stop (there is none yet). */
        long leftNanos() {
            if (!stopped) {
                return Long.MAX_VALUE;
            }
            return stopNanos + deadline.toNanos() - System.nanoTime();
        }

        private StopResult result(List<Conn> conns, int connected, String connectError, boolean triggered) {
            List<StopResult.ConnectionEnd> ends = new ArrayList<>();
            if (triggered) {
                for (Conn c : conns) {
                    ends.add(c.end.get());
                }
            }
            double exitMillis = exited ? (exitNanos - stopNanos) / 1e6 : Double.NaN;
            return new StopResult(hostPort(target), protocol.name().toLowerCase(Locale.ROOT), connections,
                    connected, connectError, stopLabel, stopAfter.toNanos() / 1e6, deadline.toNanos() / 1e6,
                    triggered, stopError, ends, watchExit != null, exitMillis);
        }

        /** One connection and the thread that drives it; its fields but {@link #end} belong to that thread. */
        private final class Conn {
            private static final int DEADLINE = Integer.MIN_VALUE;

            final int index;
            final SocketChannel ch;
            final AtomicReference<StopResult.ConnectionEnd> end = new AtomicReference<>();
            private final ReplyFramer framer = protocol == Protocol.RESP
                    ? ReplyFramer.resp() : ReplyFramer.http(expectStatus, expectBody);
            private volatile Selector selector;
            private volatile boolean abandoned;
            /** Bytes of the current reply received so far, in {@link #buf}. */
            private int n;
            private byte[] buf = new byte[4096];
            /** Volatile: {@link #abandon()} reads it from the run's thread. */
            private volatile boolean outstanding;
            private boolean closeSaid;
            private volatile long responsesBefore;
            private volatile long responsesAfter;
            private volatile long closeAfter;
            private volatile long unexpected;

            Conn(int index, SocketChannel ch) {
                this.index = index;
                this.ch = ch;
            }

            void loop() {
                String phase = "between replies";
                try (Selector sel = Selector.open()) {
                    selector = sel;
                    SelectionKey key = ch.register(sel, SelectionKey.OP_READ);
                    if (abandoned) {
                        return;
                    }
                    while (true) {
                        if (closeSaid) {
                            phase = "after a Connection: close response";
                            int r = read(false);
                            if (r == -1) {
                                finish(StopOutcome.ANSWERED_CLOSE, false, null);
                            } else if (r == DEADLINE) {
                                finish(StopOutcome.STILL_OPEN, false, "no EOF after a Connection: close response");
                            } else {
                                finish(StopOutcome.BAD_RESPONSE, false, r + " byte(s) after a Connection: close "
                                        + "response: " + ReplyFramer.printable(buf, 0, Math.min(r, 40)));
                            }
                            return;
                        }
                        // Anything that arrived since the last reply (EOF, reset, bytes) arrived before the next
                        // request: the server ended the connection between replies, or sent what nobody asked for.
                        phase = "between replies";
                        n = 0;
                        int p = ch.read(ByteBuffer.wrap(buf));
                        if (p == -1) {
                            finish(StopOutcome.CLOSED_AFTER_ANSWER, false, null);
                            return;
                        }
                        if (p > 0) {
                            finish(StopOutcome.BAD_RESPONSE, false, p + " byte(s) arrived with no request "
                                    + "outstanding: " + ReplyFramer.printable(buf, 0, Math.min(p, 40)));
                            return;
                        }
                        if (leftNanos() <= 0) {
                            finish(StopOutcome.STILL_OPEN, false, "the server kept the connection open and "
                                    + "answered " + responsesAfter + " request(s) after the stop");
                            return;
                        }
                        phase = "while sending a request";
                        outstanding = true;
                        framer.reset();
                        if (!write(key)) {
                            finish(StopOutcome.STILL_OPEN, true, "the request could not be sent by the deadline");
                            return;
                        }
                        key.interestOps(SelectionKey.OP_READ);
                        phase = "while waiting for the reply";
                        while (true) {
                            int r = read(true);
                            if (r == -1) {
                                if (n == 0) {
                                    finish(StopOutcome.CLOSED_UNANSWERED, true, null);
                                } else {
                                    finish(StopOutcome.TRUNCATED, true, "EOF after " + n + " byte(s) of the reply: "
                                            + ReplyFramer.printable(buf, 0, Math.min(n, 60)));
                                }
                                return;
                            }
                            if (r == DEADLINE) {
                                finish(StopOutcome.STILL_OPEN, true, n == 0 ? "no reply by the deadline"
                                        : n + " byte(s) of the reply by the deadline");
                                return;
                            }
                            n += r;
                            int len = framer.complete(buf, n);
                            if (len > 0) {
                                if (n > len) {
                                    finish(StopOutcome.BAD_RESPONSE, true, (n - len) + " byte(s) beyond the reply: "
                                            + ReplyFramer.printable(buf, len, Math.min(n - len, 40)));
                                    return;
                                }
                                replied();
                                break;
                            }
                        }
                    }
                } catch (ReplyFramer.BadReply e) {
                    finish(StopOutcome.BAD_RESPONSE, outstanding, e.getMessage());
                } catch (ClosedChannelException | ClosedSelectorException e) {
                    if (!abandoned) {
                        finish(StopOutcome.ERROR, outstanding, "socket closed by the probe: " + e);
                    }
                } catch (IOException e) {
                    if (abandoned) {
                        return;
                    }
                    if (!isReset(e)) {
                        finish(StopOutcome.ERROR, outstanding, phase + ": " + describe(e));
                    } else if (outstanding && n > 0) {
                        finish(StopOutcome.TRUNCATED, true, "reset after " + n + " byte(s) of the reply: "
                                + ReplyFramer.printable(buf, 0, Math.min(n, 60)));
                    } else {
                        finish(StopOutcome.RESET, outstanding, "reset " + phase + " (" + e.getMessage() + ")");
                    }
                } catch (RuntimeException e) {
                    if (!abandoned) {
                        finish(StopOutcome.ERROR, outstanding, "probe failure: " + e);
                    }
                } finally {
                    closeQuietly();
                }
            }

            private void replied() {
                outstanding = false;
                n = 0;
                closeSaid = framer.saysClose();
                if (framer.unexpected() != null) {
                    unexpected++;
                }
                if (stopped) {
                    responsesAfter++;
                    if (closeSaid) {
                        closeAfter++;
                    }
                } else {
                    responsesBefore++;
                }
            }

            /**
             * Reads into {@link #buf} after the {@link #n} bytes already there, waiting for bytes at most until
             * the deadline.
             *
             * @param grow true to make room when the buffer is full (a reply longer than the buffer)
             * @return the number of bytes read, -1 at EOF, or {@link #DEADLINE}
             */
            private int read(boolean grow) throws IOException, ReplyFramer.BadReply {
                if (n == buf.length) {
                    if (!grow || buf.length >= 2 * ReplyFramer.MAX_REPLY) {
                        throw new ReplyFramer.BadReply("reply longer than " + buf.length + " bytes");
                    }
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
                ByteBuffer into = ByteBuffer.wrap(buf, n, buf.length - n);
                while (true) {
                    int r = ch.read(into);
                    if (r != 0) {
                        return r;
                    }
                    if (!await()) {
                        return DEADLINE;
                    }
                }
            }

            /** Sends the whole request, waiting for room at most until the deadline; false if it passed. */
            private boolean write(SelectionKey key) throws IOException {
                ByteBuffer out = ByteBuffer.wrap(request);
                while (true) {
                    ch.write(out);
                    if (!out.hasRemaining()) {
                        return true;
                    }
                    key.interestOps(SelectionKey.OP_WRITE);
                    if (!await()) {
                        return false;
                    }
                }
            }

            /** One bounded wait for the socket; false when the deadline has passed. */
            private boolean await() throws IOException {
                long left = leftNanos();
                if (left <= 0) {
                    return false;
                }
                long millis = Math.max(1, Math.min(POLL_MILLIS, TimeUnit.NANOSECONDS.toMillis(left) + 1));
                selector.select(millis);
                selector.selectedKeys().clear();
                return true;
            }

            /** Records the ending, unless one is recorded already (exactly once). */
            private void finish(StopOutcome outcome, boolean requestOutstanding, String detail) {
                long now = System.nanoTime();
                boolean after = stopped;
                double endMillis = after && outcome != StopOutcome.STILL_OPEN ? (now - stopNanos) / 1e6 : Double.NaN;
                StopResult.ConnectionEnd e = new StopResult.ConnectionEnd(index, outcome, requestOutstanding, !after,
                        endMillis, responsesBefore, responsesAfter, closeAfter, unexpected, detail);
                if (end.compareAndSet(null, e)) {
                    allEnded.countDown();
                }
            }

            /** Called by the run at the deadline: a connection not ended yet is STILL_OPEN; closes its socket. */
            void abandon() {
                if (end.get() == null) {
                    abandoned = true;
                    finish(StopOutcome.STILL_OPEN, outstanding, "the probe's thread had not ended at the deadline");
                }
                closeQuietly();
            }

            void closeQuietly() {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // Closing our own socket: nothing to report.
                }
                Selector s = selector;
                if (s != null) {
                    s.wakeup();
                }
            }
        }
    }

    /** True for the errors a reset (RST) gives: ECONNRESET on a read or write, EPIPE on a write. */
    static boolean isReset(IOException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return m.contains("connection reset") || m.contains("broken pipe")
                || e.getClass().getName().endsWith("ConnectionResetException");
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
