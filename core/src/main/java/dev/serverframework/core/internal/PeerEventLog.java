package dev.serverframework.core.internal;

import io.netty.handler.codec.CodecException;
import io.netty.handler.codec.PrematureChannelClosureException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Logs what peers cause (resets, ends in the middle of a message, bad input, stalled reads) so that no
 * peer can flood the log: every event at DEBUG, and at INFO at most once per kind per minute, saying how
 * many more there were; never a stack trace, which would only show Netty's internals. The counters are in
 * {@link ServerCounters}. Thread-safe.
 */
final class PeerEventLog {
    private static final Logger log = LoggerFactory.getLogger(PeerEventLog.class);
    private static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** What a peer did. */
    enum Kind {
        RESET("the connection was reset or failed with an I/O error"),
        CLOSED_MID_MESSAGE("the peer closed the connection in the middle of a message"),
        PROTOCOL_ERROR("the peer sent input the protocol rejects"),
        WRITE_STALL("the peer stopped reading while output was pending; connection cut");

        final String description;

        Kind(String description) {
            this.description = description;
        }

        /**
         * What a failure that reached the end of a connection's pipeline says the peer did, or {@code null}
         * when it is not the peer's doing (a bug, to be reported loudly).
         */
        static Kind of(Throwable failure) {
            if (failure instanceof PrematureChannelClosureException) {
                return CLOSED_MID_MESSAGE;
            }
            if (failure instanceof IOException) {
                return RESET;
            }
            if (failure instanceof CodecException) {
                return PROTOCOL_ERROR;
            }
            return null;
        }
    }

    /** Per kind: when the last INFO line went out ({@link System#nanoTime()}), 0 for never. */
    private static final AtomicLongArray lastInfo = new AtomicLongArray(Kind.values().length);
    /** Per kind: events logged at DEBUG only since the last INFO line. */
    private static final AtomicLongArray quiet = new AtomicLongArray(Kind.values().length);

    private PeerEventLog() {
    }

    /** Logs one event of a connection. Any thread. */
    static void event(Kind kind, long connectionId, String service, String detail) {
        if (log.isDebugEnabled()) {
            log.debug("Connection {} ({}): {}: {}", connectionId, service, kind.description, detail);
        }
        int k = kind.ordinal();
        long now = System.nanoTime();
        long last = lastInfo.get(k);
        if ((last == 0 || now - last >= INTERVAL_NANOS) && lastInfo.compareAndSet(k, last, now == 0 ? 1 : now)) {
            long more = quiet.getAndSet(k, 0);
            log.info("Connection {} ({}): {}: {}{}", connectionId, service, kind.description, detail,
                    more == 0 ? " (the next ones this minute are logged at DEBUG)"
                            : " (" + more + " more in the last minute, logged at DEBUG)");
        } else {
            quiet.incrementAndGet(k);
        }
    }
}
