package dev.serverframework.examples.kv;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection's share of the partial input (requests not yet complete) that all connections of one kv
 * protocol hold, counted as Redis's {@code client-query-buffer-limit} counts a client's query buffer: against
 * a cap of its own and, through a counter shared by every share, against a total cap. The total never passes
 * its cap, not even for a moment: a share grows with a compare-and-set that fails rather than overshoots.
 *
 * <p>Used by one {@link RespDecoder}, on its connection's I/O loop; the shared counter may be read from any
 * thread.
 */
final class QueryBufferShare {
    private final int maxQueryBuffer;
    private final long maxTotalQueryBuffer;
    /** The bytes all shares hold; this one's part of it is {@link #held}. */
    private final AtomicLong total;
    private int held;

    /**
     * @param maxQueryBuffer      most bytes this share may hold
     * @param maxTotalQueryBuffer most bytes all shares counted in {@code total} may hold together
     * @param total               the bytes those shares hold, shared by all of them
     */
    QueryBufferShare(int maxQueryBuffer, long maxTotalQueryBuffer, AtomicLong total) {
        this.maxQueryBuffer = maxQueryBuffer;
        this.maxTotalQueryBuffer = maxTotalQueryBuffer;
        this.total = Objects.requireNonNull(total, "total");
    }

    /**
     * Makes this share {@code bytes}, the size of the request still on its way. Returns {@code null} when it
     * fits, or, changing nothing, the text of the protocol error for the cap it would break.
     */
    String holdPartial(int bytes) {
        if (bytes > maxQueryBuffer) {
            return "Protocol error: client query buffer limit of " + maxQueryBuffer + " bytes reached";
        }
        if (!resize(bytes)) {
            return "Protocol error: total query buffer limit of " + maxTotalQueryBuffer + " bytes reached";
        }
        return null;
    }

    /** Gives the whole share back: the request completed, failed, or left with its connection or decoder. */
    void release() {
        resize(0);
    }

    private boolean resize(int bytes) {
        long delta = (long) bytes - held;
        if (delta > 0) {
            long now;
            do {
                now = total.get();
                if (delta > maxTotalQueryBuffer - now) {
                    return false;
                }
            } while (!total.compareAndSet(now, now + delta));
        } else if (delta < 0) {
            total.addAndGet(delta);
        }
        held = bytes;
        return true;
    }
}
