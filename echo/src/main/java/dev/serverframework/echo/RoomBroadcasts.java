package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Server;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How a room's lines reach its members: numbered under one lock, kept in the {@link RoomHistory}, and handed
 * to {@code Server.each} on service {@value ChatRoom#SERVICE} of every server a member joined on, each
 * delivery on the receiver's executor; and, when the room is relayed, published to the other instances'
 * rooms ({@link RoomRelay}), whose lines come back here as {@link #relayed}.
 *
 * <p>Thread-safe; each method says on which thread it runs.
 */
final class RoomBroadcasts {
    /** The origin of a line from another instance: no member of this room (connection ids are positive). */
    private static final long ELSEWHERE = -1;

    private final ChatRoom room;
    /** The servers the members joined on: a broadcast goes through each one's {@code each}. */
    private final Set<Server> servers = new CopyOnWriteArraySet<>();
    /** Numbers broadcasts and hands them to {@code each} in that order, so that every member sees one order. */
    private final Object order = new Object();
    /** Guarded by {@link #order}, but for its size. */
    private final RoomHistory history;
    /** Null when the room is not relayed. */
    private final RoomRelay relay;

    RoomBroadcasts(ChatRoom room, int historySize, String channel) {
        this.room = room;
        this.history = new RoomHistory(historySize);
        this.relay = channel == null ? null : new RoomRelay(channel, servers, this::relayed);
    }

    /** How many of the last lines are kept. Any thread. */
    int historySize() {
        return history.size();
    }

    /** A member is seated on {@code connection}: its server's members get the room's lines. On its executor. */
    void seatedOn(Connection connection) {
        servers.add(connection.server());
        if (relay != null) {
            relay.joinedOn(connection.server());
        }
    }

    /**
     * A new member: lines numbered before this are not for it, even those whose delivery reaches its
     * executor after this; then its join line goes to the others. On the member's executor.
     */
    void joined(ChatMember me, String joinLine) {
        synchronized (order) {
            me.seen = history.lastLineId();
            broadcast(me, joinLine, false);
        }
    }

    /** A member that comes back: what it missed, and it is placed at the last line. On its executor. */
    RoomHistory.Replay rejoined(ChatMember me, long lastSeen) {
        synchronized (order) {
            RoomHistory.Replay replay = history.replay(me, lastSeen);
            me.seen = history.lastLineId();
            return replay;
        }
    }

    /**
     * Sends a line to every member but the sender (and to the sender too when {@code echo} and its
     * transport wants its own lines back), numbered, kept in the history, and published when relayed. On
     * the sender's executor.
     */
    void broadcast(ChatMember sender, String text, boolean echo) {
        Connection origin = sender.connection;
        sender.inFlight.started();
        synchronized (order) {
            RoomHistory.Line line = history.add(sender.id, echo, text);
            List<Server> through = List.copyOf(servers);
            AtomicInteger remaining = new AtomicInteger(through.size());
            // Each server's onFinish runs on the origin's executor, like this method, so the sender's count
            // needs no lock; the last of them lets the sender be read again.
            Runnable finished = () -> {
                if (remaining.decrementAndGet() == 0) {
                    sender.inFlight.finished();
                }
            };
            for (Server server : through) {
                server.each(origin, ChatRoom.SERVICE, target -> deliver(target, line), finished);
            }
            if (echo && sender.sink.echoesOwnLines()) {
                // Through the origin's queue, behind the lines numbered before this one.
                origin.server().task(origin.id(), target -> deliver(target, line), null);
            }
            if (relay != null) {
                relay.publish(text);
            }
        }
    }

    /**
     * A line of another instance's room: to every member here, numbered and kept like the room's own. No
     * sender to hold back: the engine delivers at most once and a slow receiver is dropped by its sink. On
     * the relay's worker.
     */
    private void relayed(String text) {
        synchronized (order) {
            RoomHistory.Line line = history.add(ELSEWHERE, false, text);
            for (Server server : servers) {
                server.each(ChatRoom.SERVICE, target -> deliver(target, line));
            }
        }
    }

    /** On the target's executor: hands the line to the member, or drops it when its sink refuses. */
    private void deliver(Connection target, RoomHistory.Line line) {
        ChatMember m = room.member(target);
        if (m == null || !m.state.isPresent() || line.id() <= m.seen) {
            return; // not yet welcomed, on its way out, or given this line already (a rejoin's replay)
        }
        m.seen = line.id();
        if (line.isFor(m) && !m.sink.send(line.text(), line.id())) {
            room.dropped(m);
        }
    }
}
