package dev.serverframework.echo;

import dev.serverframework.core.Connection;

/**
 * A member of the room: one connection's seat. Its name may change ({@code /nick}); a member that
 * comes back on another connection ({@link ChatRoom#rejoin}) is a new {@code ChatMember} with the same name.
 * Any thread may read it.
 */
public final class ChatMember {
    final ChatRoom room;
    /** The first connection's id, kept across rejoins: which lines were this member's. */
    final long id;
    final Connection connection;
    final ChatSink sink;
    /** Changed under the {@link Nicknames} lock, on the member's executor. */
    volatile String name;
    final MemberState state = new MemberState();
    /** Executor only: the id of the last room line handed to this member (or passed over). */
    long seen;
    /** Executor only: this member's broadcasts not yet run on every receiver. */
    final BroadcastsInFlight inFlight;

    ChatMember(ChatRoom room, long id, Connection connection, ChatSink sink, String name) {
        this.room = room;
        this.id = id;
        this.connection = connection;
        this.sink = sink;
        this.name = name;
        this.inFlight = new BroadcastsInFlight(sink);
    }

    /** The member's nickname. */
    public String name() {
        return name;
    }

    /** The connection the member is seated on. */
    public Connection connection() {
        return connection;
    }

    /** Whether the member is seated: it gets lines and may speak. */
    public boolean isPresent() {
        return state.isPresent();
    }

    /** Whether the member's connection is gone and it may still come back. */
    public boolean isAway() {
        return state.isAway();
    }

    /** Whether the member has left the room for good (its name is free). */
    public boolean hasLeft() {
        return state.hasLeft();
    }

    @Override
    public String toString() {
        return "ChatMember[" + name + ", connection " + connection.id() + "]";
    }
}
