package dev.serverframework.http.websocket;

import dev.serverframework.core.SettingChecks;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The settings of one WebSocket route: its service name, what handshakes it accepts, its limits and
 * timeouts. Immutable; made with {@link #builder()}, {@link #defaults()} for the defaults.
 */
public final class WebSocketOptions {
    private static final WebSocketOptions DEFAULTS = builder().build();

    private final String service;
    private final Set<String> allowedOrigins;
    private final List<String> subprotocols;
    private final int maxMessageSize;
    private final boolean compression;
    private final Duration closeTimeout;
    private final long maxQueuedBytes;
    private final Duration idleTimeout;

    private WebSocketOptions(Builder b) {
        this.service = b.service;
        this.allowedOrigins = b.allowedOrigins;
        this.subprotocols = b.subprotocols;
        this.maxMessageSize = b.maxMessageSize;
        this.compression = b.compression;
        this.closeTimeout = b.closeTimeout;
        this.maxQueuedBytes = b.maxQueuedBytes;
        this.idleTimeout = b.idleTimeout;
    }

    /** The defaults: see each setting of {@link Builder}. */
    public static WebSocketOptions defaults() {
        return DEFAULTS;
    }

    /** Starts a set of settings from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The service name of the route's sockets ({@code Server.each} and {@code count} select by it). */
    public String service() {
        return service;
    }

    /** The origins a browser handshake may come from; empty: any (and requests without {@code Origin}). */
    public Set<String> allowedOrigins() {
        return allowedOrigins;
    }

    /** The subprotocols the route speaks, in the server's order of preference; empty: none. */
    public List<String> subprotocols() {
        return subprotocols;
    }

    /** The largest message, reassembled (and inflated), in bytes. */
    public int maxMessageSize() {
        return maxMessageSize;
    }

    /** Whether {@code permessage-deflate} is agreed when a client offers it. */
    public boolean compression() {
        return compression;
    }

    /** How long the closing handshake may take before the connection is cut. */
    public Duration closeTimeout() {
        return closeTimeout;
    }

    /** The bytes that may wait for a slow reader before it is closed with 1008. */
    public long maxQueuedBytes() {
        return maxQueuedBytes;
    }

    /** Quiet time after which a socket is pinged (and closed if the ping is not answered); null: the server's. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** Settings of a WebSocket route. Not thread-safe; a setting out of its range fails at once, naming it. */
    public static final class Builder {
        private String service = "websocket";
        private Set<String> allowedOrigins = Set.of();
        private List<String> subprotocols = List.of();
        private int maxMessageSize = 64 * 1024;
        private boolean compression;
        private Duration closeTimeout = Duration.ofSeconds(5);
        private long maxQueuedBytes = 1024 * 1024;
        private Duration idleTimeout;

        private Builder() {
        }

        /** The service name of the route's sockets; default "websocket". */
        public Builder service(String name) {
            this.service = Objects.requireNonNull(name, "service");
            return this;
        }

        /**
         * Accepts handshakes only with one of these exact {@code Origin} values (e.g.
         * {@code "https://example.com"}); others get 403. Default: any, the right choice only when the
         * socket needs no cookie-based authority (RFC 6455 10.2).
         */
        public Builder allowedOrigins(String... origins) {
            this.allowedOrigins = Set.of(origins);
            return this;
        }

        /**
         * The subprotocols this route speaks ({@code Sec-WebSocket-Protocol}), in order of preference: the
         * first of them the client offers is agreed. A client that offers only others is still accepted,
         * without a subprotocol (it may then close). Default none.
         */
        public Builder subprotocols(String... names) {
            this.subprotocols = List.of(names);
            return this;
        }

        /**
         * The largest message, reassembled from its fragments and inflated, 125 bytes to 64 MiB; larger
         * gets close code 1009. Default 64 KiB.
         */
        public Builder maxMessageSize(int bytes) {
            this.maxMessageSize = SettingChecks.range("maxMessageSize", bytes, 125, 64 << 20);
            return this;
        }

        /**
         * Agrees {@code permessage-deflate} (RFC 7692) when a client offers it. Inflated messages are held
         * to {@link #maxMessageSize}, so a small compressed frame cannot become a large one in memory. Costs
         * each compressed socket its zlib state (several hundred KiB); default off.
         */
        public Builder compression(boolean enabled) {
            this.compression = enabled;
            return this;
        }

        /** How long the closing handshake may take before the connection is cut, 0 to 10 min; default 5 s. */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = SettingChecks.range("closeTimeout", timeout, Duration.ZERO, Duration.ofMinutes(10));
            return this;
        }

        /**
         * The bytes that may wait for a slow reader before it is closed with 1008, at least 1; default 1 MiB.
         * Keep it above {@link #maxMessageSize} plus a 14-byte frame header: a smaller queue cannot take one
         * message of the largest size, and closes even a fast reader that is sent one.
         */
        public Builder maxQueuedBytes(long bytes) {
            this.maxQueuedBytes = SettingChecks.atLeast("maxQueuedBytes", bytes, 1);
            return this;
        }

        /**
         * Quiet time after which a socket gets a ping; one that has not answered by the next such time is
         * closed. 1 s to 24 h; default the server's idle timeout.
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = SettingChecks.range("idleTimeout", timeout, Duration.ofSeconds(1), Duration.ofHours(24));
            return this;
        }

        /** The settings. */
        public WebSocketOptions build() {
            return new WebSocketOptions(this);
        }
    }
}
