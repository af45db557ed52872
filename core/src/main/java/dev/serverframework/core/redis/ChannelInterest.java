package dev.serverframework.core.redis;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The channels this process wants from Redis (those with local subscribers), and keeping Redis in line with
 * them. The set is ours, not Lettuce's: a SUBSCRIBE or UNSUBSCRIBE while the link is down is rejected, so
 * the whole set is replayed on every (re)connection, and a channel Redis confirms that is no longer wanted
 * (Lettuce's own resubscription of a channel given up while down) is unsubscribed again at once.
 *
 * <p>Why one lock around "change the set, send the command": the last command sent for a channel then
 * always matches the set, whatever the interleaving of callers, replays and confirmations. Sending does not
 * block: Lettuce queues the command on the connection (or fails it at once when disconnected).
 * Thread-safe; {@link #wants} is lock-free, for the I/O thread that receives messages.
 */
final class ChannelInterest {
    /** Channels per SUBSCRIBE on a replay: one command for many channels, without an enormous one. */
    private static final int REPLAY_BATCH = 1000;

    private final Set<String> desired = ConcurrentHashMap.newKeySet();

    boolean wants(String channel) {
        return desired.contains(channel);
    }

    int size() {
        return desired.size();
    }

    synchronized void subscribe(String channel, StatefulRedisPubSubConnection<String, byte[]> connection) {
        if (desired.add(channel) && connection != null) {
            ignoreFailure(connection.async().subscribe(channel));
        }
    }

    synchronized void unsubscribe(String channel, StatefulRedisPubSubConnection<String, byte[]> connection) {
        if (desired.remove(channel) && connection != null) {
            ignoreFailure(connection.async().unsubscribe(channel));
        }
    }

    /** The link is up (again): subscribes every wanted channel. Duplicates of Lettuce's own are harmless. */
    synchronized void replay(StatefulRedisPubSubConnection<String, byte[]> connection) {
        List<String> batch = new ArrayList<>(Math.min(desired.size(), REPLAY_BATCH));
        for (String channel : desired) {
            batch.add(channel);
            if (batch.size() == REPLAY_BATCH) {
                ignoreFailure(connection.async().subscribe(batch.toArray(String[]::new)));
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            ignoreFailure(connection.async().subscribe(batch.toArray(String[]::new)));
        }
    }

    /** Redis confirmed a subscription: if the channel is no longer wanted, unsubscribe it again. I/O thread. */
    synchronized void confirmed(String channel, StatefulRedisPubSubConnection<String, byte[]> connection) {
        if (!desired.contains(channel) && connection != null) {
            ignoreFailure(connection.async().unsubscribe(channel));
        }
    }

    /**
     * A failed (UN)SUBSCRIBE needs nothing: it failed because the link is down, and the next connection
     * replays the set. Observing the failure keeps it out of "unhandled" reports.
     */
    private static void ignoreFailure(RedisFuture<Void> f) {
        f.exceptionally(e -> null);
    }
}
