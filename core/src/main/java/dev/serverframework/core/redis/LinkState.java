package dev.serverframework.core.redis;

import dev.serverframework.core.PubSubEngine.State;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a {@link RedisEngine}'s link to Redis stands, and the one log line per change: INFO when connected,
 * WARN when lost or not reachable, each with the Redis address and the cause, no stack trace. Never logs per
 * message, nor per reconnection attempt. Written by the engine's supervisor thread (and {@code close});
 * read by any thread.
 */
final class LinkState {
    private static final Logger log = LoggerFactory.getLogger(RedisEngine.class);

    private final String address;
    private volatile State state = State.CONNECTING;
    /** Whether the CONNECTING warning was logged: once, not on every failed attempt. */
    private boolean warnedConnecting;

    LinkState(String address) {
        this.address = address;
    }

    State get() {
        return state;
    }

    /** Both connections are up. {@code bounced}: they were up at the last look too, but reconnected meanwhile. */
    synchronized void connected(boolean bounced) {
        if (state == State.CLOSED) {
            return;
        }
        if (state != State.CONNECTED) {
            log.info("Redis pub/sub connected to {}", address);
        } else if (bounced) {
            log.info("Redis pub/sub reconnected to {} (the connection was briefly lost)", address);
        }
        state = State.CONNECTED;
    }

    /**
     * A connection is not up; {@code cause} says why, null when nothing failed (yet): a first connection
     * still being made, or one closed by Redis without an error.
     */
    synchronized void down(Throwable cause) {
        switch (state) {
            case CONNECTED -> {
                state = State.DISCONNECTED;
                log.warn("Redis pub/sub lost its connection to {}: {}; reconnecting, messages for other processes "
                        + "are dropped meanwhile", address, describe(cause));
            }
            case CONNECTING -> {
                if (!warnedConnecting && cause != null) {
                    warnedConnecting = true;
                    log.warn("Redis pub/sub cannot connect to {} yet: {}; retrying, messages for other processes "
                            + "are dropped meanwhile", address, describe(cause));
                }
            }
            default -> {
            }
        }
    }

    synchronized void closed() {
        if (state != State.CLOSED) {
            state = State.CLOSED;
            log.info("Redis pub/sub to {} closed", address);
        }
    }

    /** A short description of a failure: the innermost cause's message ("Connection refused"). */
    static String describe(Throwable t) {
        if (t == null) {
            return "connection closed";
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : root.getClass().getSimpleName() + ": " + message;
    }
}
