package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.SettingChecks;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Pattern;

/**
 * One chat room, whatever carries its members' lines: a TCP line client ({@link ChatProtocol}), a
 * WebSocket, a Server-Sent Events stream. A transport seats a connection with {@link #join}, handing the
 * room a {@link ChatSink} that writes lines in its own framing, and passes the member's lines to
 * {@link #say}; the room does the rest: nicknames ({@code guest-ID} at first, {@code /nick NAME}),
 * {@code /who}, {@code /quit}, join and leave lines (starting with {@code *}), errors ({@code error: ...}).
 *
 * <p><b>Broadcasts.</b> A line reaches the members through {@code Server.each} on service
 * {@value #SERVICE}, each delivery on the receiver's own executor, so a slow receiver never holds up the
 * sender or anyone else ({@link RoomBroadcasts}). The room broadcasts through every server one of its
 * members has joined on, so members of a TCP server and of an HTTP server are in one room. Broadcasts are numbered and handed to
 * {@code each} in that order under one lock, so every member receives the lines in the same order, that
 * of their ids; the last {@link Builder#history} lines are kept, so that a member whose transport can
 * resume ({@link #away}, {@link #rejoin}) gets what it missed exactly once. A sender with
 * {@value #MAX_BROADCASTS_IN_FLIGHT} broadcasts not yet handed to every receiver is told to stop reading
 * ({@link ChatSink#pauseInput}) until they are. A receiver too slow for its transport's limit is dropped:
 * its sink says so by refusing a line, and the others are told it left (too slow).
 *
 * <p><b>Several instances.</b> A room built with {@link Builder#channel} is relayed through pub/sub
 * ({@link RoomRelay}): its lines (words, joins, leaves, nickname changes) are published, and those of the
 * other instances' rooms are broadcast here, each instance's in their order. Nicknames are unique per
 * instance; {@code /who} lists this instance's members only.
 *
 * <p><b>Threads.</b> Thread-safe. Every method that takes a {@link ChatMember} runs on that member's
 * connection's executor (where its transport's callbacks run), unless it says otherwise: a member's
 * own state is confined there, and its broadcasts keep their order.
 */
public final class ChatRoom {
    /** The service name of every chat member's connection, whatever its transport: {@code each} reaches all. */
    public static final String SERVICE = "chat";
    /** Broadcasts of one sender that may wait for their receivers before the sender is no longer read. */
    static final int MAX_BROADCASTS_IN_FLIGHT = 64;

    private static final Logger log = LoggerFactory.getLogger(ChatRoom.class);
    private static final AttributeKey<ChatMember> MEMBER = AttributeKey.valueOf(ChatRoom.class, "member");
    private static final Pattern LINE_BREAK = Pattern.compile("\r\n|\r|\n");

    private final int maxLineLength;
    private final Nicknames nicknames = new Nicknames();
    private final ChatCommands commands = new ChatCommands(this, nicknames);
    private final RoomBroadcasts broadcasts;

    /** A room with the default limits (see {@link Builder}). Any thread. */
    public ChatRoom() {
        this(new Builder());
    }

    private ChatRoom(Builder b) {
        this.maxLineLength = b.maxLineLength;
        this.broadcasts = new RoomBroadcasts(this, b.history, b.channel);
    }

    /** Starts building a room with other limits. Any thread. */
    public static Builder builder() {
        return new Builder();
    }

    /** The longest line a member may say, in bytes of UTF-8. Any thread. */
    public int maxLineLength() {
        return maxLineLength;
    }

    /** How many of the last lines the room keeps for members that come back. Any thread. */
    public int historySize() {
        return broadcasts.historySize();
    }

    /** The member seated on this connection, or null. Any thread. */
    public ChatMember member(Connection connection) {
        ChatMember m = connection.attr(MEMBER).get();
        return m != null && m.room == this ? m : null;
    }

    /**
     * The names of this instance's members present or away, sorted. Any thread.
     */
    public List<String> names() {
        return nicknames.sorted();
    }

    /**
     * Seats a new member on {@code connection}, whose service must be {@value #SERVICE}: names it
     * {@code guest-ID}, announces it to the others, then welcomes it. A relayed room subscribes to its
     * channel through the connection's server if it is not subscribed yet. On the connection's executor.
     */
    public ChatMember join(Connection connection, ChatSink sink) {
        Objects.requireNonNull(sink, "sink");
        ChatMember me = new ChatMember(this, connection.id(), connection, sink, Nicknames.GUEST + connection.id());
        nicknames.add(me);
        broadcasts.seatedOn(connection);
        connection.attr(MEMBER).set(me);
        // The others are chosen before the welcome goes out: a client that connects after reading its
        // welcome is never told of a join that happened before it.
        broadcasts.joined(me, "* " + me.name + " joined");
        send(me, "* welcome, you are " + me.name + "; commands: /nick NAME, /who, /quit");
        return me;
    }

    /**
     * A line from the member: a command, or words for the others. Empty lines are ignored; a line longer
     * than {@link #maxLineLength} gets an error and the member leaves; a member that is not present is not
     * heard. On the member's executor.
     */
    public void say(ChatMember me, String line) {
        if (!me.state.isPresent() || line.isEmpty()) {
            return;
        }
        // A char is at most 3 bytes of UTF-8, so most lines need no encoding to be measured.
        if (line.length() > maxLineLength / 3 && line.getBytes(StandardCharsets.UTF_8).length > maxLineLength) {
            tooLong(me, "line longer than " + maxLineLength + " bytes");
        } else if (line.startsWith("/")) {
            commands.run(me, line);
        } else {
            broadcast(me, me.name + ": " + line, true);
        }
    }

    /**
     * A message that may hold several lines (a WebSocket message, a POST body): each line is said in turn,
     * {@code \r\n}, {@code \r} and {@code \n} all ending one. On the member's executor.
     */
    public void sayLines(ChatMember me, String text) {
        for (String line : LINE_BREAK.split(text, -1)) {
            say(me, line);
        }
    }

    /**
     * The member's transport met input over its limit: an error line with the reason, then the member
     * leaves. A member already leaving only has its transport closed. On the member's executor.
     */
    public void tooLong(ChatMember me, String reason) {
        if (!me.state.isPresent()) {
            me.sink.close();
            return;
        }
        send(me, "error: " + reason);
        leave(me);
    }

    /**
     * The member leaves: its transport closes after the lines sent before, and its leave is announced
     * when the transport reports the close ({@link #left}). Nothing for a member not present. On the
     * member's executor.
     */
    public void leave(ChatMember me) {
        if (me.state.startLeaving()) {
            me.sink.close();
        }
    }

    /**
     * The member's connection was quiet for too long: it is told so and leaves. On the member's executor.
     */
    public void idle(ChatMember me) {
        if (me.state.isPresent()) {
            send(me, "* idle too long, closing");
            leave(me);
        }
    }

    /**
     * The server is stopping and closes the member's connection itself: the member gets a goodbye and no
     * more lines. On the member's executor.
     */
    public void serverStopping(ChatMember me) {
        if (me.state.startLeaving()) {
            send(me, "* server shutting down, goodbye");
        }
    }

    /**
     * The member's connection closed for good: its name is freed and its leave announced, unless a drop
     * announced it already. Nothing for a member that was taken over by a {@link #rejoin}. On the member's
     * executor.
     */
    public void left(ChatMember me) {
        if (!nicknames.free(me)) {
            return;
        }
        if (me.state.announceLeave()) {
            broadcast(me, "* " + me.name + " left", false);
        }
    }

    /**
     * The member's connection closed, but its transport lets it come back ({@link #rejoin}): it keeps
     * its name, nobody is told, and the lines meanwhile wait in the history. A member that was leaving
     * leaves instead, as by {@link #left}. Returns whether the member is now away. On the member's executor.
     */
    public boolean away(ChatMember me) {
        if (me.state.goAway()) {
            return true;
        }
        left(me);
        return false;
    }

    /**
     * An away member did not come back in time: it leaves, as by {@link #left}. Returns whether it left
     * now (false when it came back or had left already). On the executor of the member's (closed)
     * connection, which is where its leave line starts from.
     */
    public boolean expire(ChatMember me) {
        if (!me.state.isAway()) {
            return false;
        }
        left(me);
        return me.state.hasLeft();
    }

    /**
     * A member comes back on a new connection (of service {@value #SERVICE}): a new member takes the
     * place of {@code previous}, with its name, and nobody is told. It gets a welcome back, then every
     * line numbered after {@code lastSeen} that it would have received, in order, from the history (with
     * a notice when the history no longer reaches back that far), then the lines that follow, each once.
     * A previous member still present (its client saw the old connection fail before the server did) is
     * taken over: its transport is closed. Returns the new member, or null when {@code previous} has
     * left (the caller then {@link #join}s). On the new connection's executor.
     *
     * @param lastSeen the id of the last line the client received, as its sink gave it ({@link ChatSink#send})
     */
    public ChatMember rejoin(ChatMember previous, Connection connection, ChatSink sink, long lastSeen) {
        Objects.requireNonNull(sink, "sink");
        if (previous.room != this) {
            throw new IllegalArgumentException("member " + previous.name + " is not of this room");
        }
        Nicknames.Handover handover = nicknames.handOver(previous,
                name -> new ChatMember(this, previous.id, connection, sink, name));
        if (handover == null) {
            return null;
        }
        ChatMember me = handover.successor();
        if (handover.tookOver()) {
            previous.sink.close();
        }
        broadcasts.seatedOn(connection);
        connection.attr(MEMBER).set(me);
        RoomHistory.Replay replay = broadcasts.rejoined(me, lastSeen);
        // These private lines carry the position the client has really reached, so that a connection lost
        // in the middle of the replay resumes where it broke off.
        List<RoomHistory.Line> missed = replay.missed();
        boolean open = sendAt(me, "* welcome back, you are " + me.name, replay.from())
                && (!replay.gap() || sendAt(me, "* some lines were missed while you were away", replay.from()));
        for (int i = 0; open && i < missed.size(); i++) {
            open = sendAt(me, missed.get(i).text(), missed.get(i).id());
        }
        return me;
    }

    /** Sends a line to the members: {@link RoomBroadcasts#broadcast}. On the sender's executor. */
    void broadcast(ChatMember sender, String text, boolean echo) {
        broadcasts.broadcast(sender, text, echo);
    }

    /** A private line, at the member's current position. On the member's executor. */
    void send(ChatMember me, String line) {
        sendAt(me, line, me.seen);
    }

    /** Sends one line; a sink that refuses it drops a member present. Returns whether it took it. */
    private boolean sendAt(ChatMember me, String line, long position) {
        if (me.sink.send(line, position)) {
            return true;
        }
        dropped(me);
        return false;
    }

    /**
     * The member's transport refused a line: it reads too slowly and is being dropped (the transport says
     * why to it and closes). The others are told now; nothing more goes to it.
     */
    void dropped(ChatMember m) {
        if (!m.state.startLeaving()) {
            return;
        }
        m.state.markLeaveAnnounced();
        log.debug("Chat member {} (connection {}) dropped: it reads too slowly", m.name, m.connection.id());
        broadcast(m, "* " + m.name + " left (too slow)", false);
    }

    /**
     * Runs {@code task} on the executor of the member's connection (open or closed), for callers on
     * another thread (a timer): the room's methods run there. False when that executor has terminated (its
     * server stopped). Any thread.
     */
    public boolean onExecutorOf(ChatMember me, Runnable task) {
        try {
            me.connection.executor().execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Limits of a {@link ChatRoom}. Not thread-safe; {@link #build()} makes the room. */
    public static final class Builder {
        private int maxLineLength = 1024;
        private int history = 100;
        private String channel;

        private Builder() {
        }

        /** The longest line, in bytes of UTF-8; longer gets an error and the member leaves. Default 1024. */
        public Builder maxLineLength(int bytes) {
            this.maxLineLength = SettingChecks.atLeast("maxLineLength", bytes, 1);
            return this;
        }

        /**
         * How many of the last lines are kept for members that come back after losing their connection,
         * 0 to 100,000. Default 100.
         */
        public Builder history(int lines) {
            this.history = SettingChecks.range("history", lines, 0, 100_000);
            return this;
        }

        /**
         * Relays the room on pub/sub {@code channel}: the rooms of all instances on it are one room (see
         * {@link ChatRoom}). Default: not relayed.
         */
        public Builder channel(String channel) {
            this.channel = Objects.requireNonNull(channel, "channel");
            if (channel.isEmpty()) {
                throw new IllegalArgumentException("channel must not be empty");
            }
            return this;
        }

        /** The room with these limits. */
        public ChatRoom build() {
            return new ChatRoom(this);
        }
    }
}
