package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * Where a protocol that HTTP switches to keeps its per-connection state: one connection attribute of one
 * key. A connection's attributes are its channel's, so the state is reachable from the connection (on its
 * executor, in {@code each} tasks) and from the channel (as the pipeline is built). One per kind of state,
 * shared by every connection; any thread.
 *
 * @param <S> the state's type
 */
final class ConnectionSlot<S> {
    private final AttributeKey<S> key;

    ConnectionSlot(Class<S> type) {
        this.key = AttributeKey.valueOf(type, "state");
    }

    S get(Connection connection) {
        return connection.attr(key).get();
    }

    S get(Channel channel) {
        return channel.attr(key).get();
    }

    void set(Connection connection, S state) {
        connection.attr(key).set(state);
    }

    /** Takes the state off the connection; removed, not set to null, so that the attribute gives up its slot. */
    @SuppressWarnings("deprecation")
    void remove(Connection connection) {
        connection.attr(key).getAndRemove();
    }
}
