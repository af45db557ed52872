package dev.serverframework.http.sse;

import dev.serverframework.core.SettingChecks;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of one Server-Sent Events route. Immutable; made with {@link #builder()}, {@link #defaults()}
 * for the defaults.
 */
public final class SseOptions {
    private static final SseOptions DEFAULTS = builder().build();

    private final String service;
    private final Duration heartbeat;
    private final long maxQueuedBytes;
    private final Duration dropGrace;

    private SseOptions(Builder b) {
        this.service = b.service;
        this.heartbeat = b.heartbeat;
        this.maxQueuedBytes = b.maxQueuedBytes;
        this.dropGrace = b.dropGrace;
    }

    /** The defaults: see each setting of {@link Builder}. */
    public static SseOptions defaults() {
        return DEFAULTS;
    }

    /** Starts a set of settings from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The service name of the route's streams ({@code Server.each} and {@code count} select by it). */
    public String service() {
        return service;
    }

    /** The quiet time after which a comment line is sent to keep the stream alive. */
    public Duration heartbeat() {
        return heartbeat;
    }

    /** The bytes that may wait for a slow reader before its stream is ended. */
    public long maxQueuedBytes() {
        return maxQueuedBytes;
    }

    /** How long a stream ended for a slow reader has to read its end before it is cut. */
    public Duration dropGrace() {
        return dropGrace;
    }

    /** Settings of an SSE route. Not thread-safe; a setting out of its range fails at once, naming it. */
    public static final class Builder {
        private String service = "sse";
        private Duration heartbeat = Duration.ofSeconds(15);
        private long maxQueuedBytes = 1024 * 1024;
        private Duration dropGrace = Duration.ofSeconds(5);

        private Builder() {
        }

        /** The service name of the route's streams; default "sse". */
        public Builder service(String name) {
            this.service = Objects.requireNonNull(name, "service");
            return this;
        }

        /**
         * The quiet time after which a comment line goes out, 1 s to 1 h: it keeps proxies and the idle
         * timeout from closing a stream that has nothing to say. Default 15 s.
         */
        public Builder heartbeat(Duration interval) {
            this.heartbeat = SettingChecks.range("heartbeat", interval, Duration.ofSeconds(1), Duration.ofHours(1));
            return this;
        }

        /** The bytes that may wait for a slow reader before its stream is ended, at least 1; default 1 MiB. */
        public Builder maxQueuedBytes(long bytes) {
            this.maxQueuedBytes = SettingChecks.atLeast("maxQueuedBytes", bytes, 1);
            return this;
        }

        /** How long a stream ended for a slow reader has to read its end, 0 to 10 min; default 5 s. */
        public Builder dropGrace(Duration grace) {
            this.dropGrace = SettingChecks.range("dropGrace", grace, Duration.ZERO, Duration.ofMinutes(10));
            return this;
        }

        /** The settings. */
        public SseOptions build() {
            return new SseOptions(this);
        }
    }
}
