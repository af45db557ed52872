package dev.serverframework.examples.bench;

import dev.serverframework.core.SettingChecks;
import dev.serverframework.examples.UsageException;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * The graceful-stop client: N keep-alive connections, each in a closed loop (its next request goes out as soon
 * as the previous reply has arrived); after a delay the server is asked to stop, and the probe classifies how
 * each connection really ended on the wire ({@link StopOutcome}), exactly once.
 *
 * <p>This class holds the settings; each {@link #run} is a {@link StopRun}, with one platform thread per
 * connection, each a {@link ProbeConnection} on a non-blocking socket with a selector of its own, so that no
 * read blocks past the deadline and an EOF or a reset that arrived between replies is seen before the next
 * request goes out.
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
                throw new UsageException("--protocol must be http or resp, got " + s);
            }
        }
    }

    private static final byte[] PING = "*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII);

    // The settings, read by each StopRun.
    final InetSocketAddress target;
    final Protocol protocol;
    final int connections;
    final Duration stopAfter;
    final Duration deadline;
    final Duration connectTimeout;
    final String stopLabel;
    final ProcessHandle watchExit;
    final byte[] request;
    private final int expectStatus;
    private final String expectBody;

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

    /** A new reply framer, for one connection: what a complete, valid reply is in this probe's protocol. */
    ReplyFramer newFramer() {
        return protocol == Protocol.RESP ? ReplyFramer.resp() : ReplyFramer.http(expectStatus, expectBody);
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
            this.connections = SettingChecks.range("connections", n, 1, 100_000);
            return this;
        }

        /** How long the loops run before the stop action, up to an hour (default 3 s). */
        public Builder stopAfter(Duration d) {
            this.stopAfter = SettingChecks.range("stopAfter", d, Duration.ZERO, Duration.ofHours(1));
            return this;
        }

        /**
         * How long after the stop to wait for connections to end, 1 ms to an hour; those still open then are
         * STILL_OPEN (default 30 s).
         */
        public Builder deadline(Duration d) {
            this.deadline = SettingChecks.range("deadline", d, Duration.ofMillis(1), Duration.ofHours(1));
            return this;
        }

        /** Limit for each connect, 1 ms to an hour (default 5 s). */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = SettingChecks.range("connectTimeout", d, Duration.ofMillis(1), Duration.ofHours(1));
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
                throw new IllegalArgumentException("expectStatus must be 0 or 200..999, got " + s);
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
        return new StopRun(this).execute(Objects.requireNonNull(stopAction, "stopAction"));
    }

    /** {@code host:port}, with an IPv6 host in brackets. */
    static String hostPort(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

}
