package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.core.SettingChecks;
import dev.serverframework.echo.internal.LineFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * A chat room over a line protocol: every line a client sends reaches every other chat connection of the
 * server, prefixed by the sender's name ({@code alice: hello}). Commands: {@code /nick NAME} renames,
 * {@code /who} lists who is online (count and names), {@code /quit} leaves. Joins and leaves are
 * announced as lines starting with {@code *}; errors are lines starting with {@code error:}.
 *
 * <p><b>Rules.</b> A line longer than {@link Builder#maxLineLength} gets an error line and the
 * connection is closed. A line reaches the others through {@code Server.each}, each delivery on the
 * receiver's own executor, so a slow receiver never holds up the sender or anyone else; what waits for a
 * receiver is counted, and one that falls more than {@link Builder#maxPendingBytes} behind is dropped
 * with a reason line (it gets {@link Builder#dropGrace} to read the backlog and that line, then it is
 * cut). Chat users may sit quiet for long: the protocol sets its own idle timeout on each connection
 * ({@link Builder#idleTimeout}, replacing the server's).
 *
 * <p><b>Why this module.</b> Chat lives in {@code echo}, next to {@link EchoProtocol}, because it is the
 * line protocol the echo demo grows into: the same line decoder, the same half-close and back-pressure
 * handling, one broadcast further. The {@code examples} module stays a thin layer of commands over
 * protocols that users can depend on and copy.
 *
 * <p>Thread-safe: one instance serves every connection of one server (nicknames are unique per
 * instance). Callbacks run on each connection's worker ({@link Execution#WORKER}).
 */
public final class ChatProtocol implements Protocol<ByteBuf> {
    private static final AttributeKey<Member> MEMBER = AttributeKey.valueOf(ChatProtocol.class, "member");
    private static final Logger log = LoggerFactory.getLogger(ChatProtocol.class);

    /** The service name of chat connections. */
    public static final String SERVICE = "chat";
    private static final Pattern NICKNAME = Pattern.compile("[\\p{L}\\p{N}_.-]{1,32}");
    private static final String GUEST = "guest-";
    /** Broadcasts of one sender that may wait for their receivers before the sender is no longer read. */
    static final int MAX_BROADCASTS_IN_FLIGHT = 64;

    private final int maxLineLength;
    private final long maxPendingBytes;
    private final Duration dropGrace;
    private final Duration idleTimeout;
    /** Nickname to connection id: who holds which name. */
    private final ConcurrentHashMap<String, Long> nicknames = new ConcurrentHashMap<>();

    /** A chat room with the default limits (see {@link Builder}). */
    public ChatProtocol() {
        this(new Builder());
    }

    private ChatProtocol(Builder b) {
        this.maxLineLength = b.maxLineLength;
        this.maxPendingBytes = b.maxPendingBytes;
        this.dropGrace = b.dropGrace;
        this.idleTimeout = b.idleTimeout;
    }

    /** Starts building a chat protocol with other limits. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@value #SERVICE}. */
    @Override
    public String service() {
        return SERVICE;
    }

    /** The line decoder. On the I/O loop. */
    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast("chat-lines", new LineFrameDecoder(maxLineLength));
    }

    /** Names the newcomer {@code guest-ID}, welcomes it and announces it to the others. On the worker. */
    @Override
    public void onOpen(Connection connection) {
        if (!idleTimeout.isZero()) {
            connection.idleTimeout(idleTimeout);
        }
        String name = GUEST + connection.id();
        nicknames.put(name, connection.id());
        Member me = new Member(name);
        connection.attr(MEMBER).set(me);
        // The others are chosen before the welcome goes out: a client that connects after reading its
        // welcome is never told of a join that happened before it.
        broadcast(connection, "* " + name + " joined");
        send(connection, me, "* welcome, you are " + name + "; commands: /nick NAME, /who, /quit");
    }

    /** A line or a command. On the worker. */
    @Override
    public void onData(Connection connection, ByteBuf message) {
        Member me = connection.attr(MEMBER).get();
        if (me == null || me.leaving) {
            return;
        }
        String line = LineFrameDecoder.text(message);
        if (line.isEmpty()) {
            return;
        }
        if (line.startsWith("/")) {
            command(connection, me, line);
        } else {
            broadcast(connection, me.name + ": " + line);
        }
    }

    /** A line over the limit: an error line, then the member leaves. On the worker. */
    @Override
    public void onInputTooLong(Connection connection, TooLongFrameException cause) {
        Member me = connection.attr(MEMBER).get();
        if (me == null || me.leaving) {
            connection.close();
            return;
        }
        send(connection, me, "error: " + cause.getMessage());
        leave(connection, me);
    }

    private void command(Connection connection, Member me, String line) {
        int space = line.indexOf(' ');
        String command = space < 0 ? line : line.substring(0, space);
        String argument = space < 0 ? "" : line.substring(space + 1).trim();
        switch (command) {
            case "/nick" -> nick(connection, me, argument);
            case "/who" -> who(connection, me);
            case "/quit" -> {
                send(connection, me, "* bye");
                leave(connection, me);
            }
            default -> send(connection, me, "error: unknown command " + command + "; try /nick NAME, /who, /quit");
        }
    }

    private void nick(Connection connection, Member me, String name) {
        if (!NICKNAME.matcher(name).matches()) {
            send(connection, me, "error: a nickname is 1 to 32 letters, digits, '_', '-' or '.'");
        } else if (name.startsWith(GUEST)) {
            send(connection, me, "error: nicknames starting with " + GUEST + " are reserved");
        } else if (name.equals(me.name)) {
            send(connection, me, "* you are already " + name);
        } else if (nicknames.putIfAbsent(name, connection.id()) != null) {
            send(connection, me, "error: nickname " + name + " is taken");
        } else {
            String old = me.name;
            me.name = name;
            nicknames.remove(old, connection.id());
            send(connection, me, "* you are now " + name);
            broadcast(connection, "* " + old + " is now known as " + name);
        }
    }

    /**
     * Answers from the nickname table, at once: a reply gathered with {@code Server.each} would come
     * after the answers to commands sent behind {@code /who} (and never after a {@code /quit}).
     */
    private void who(Connection connection, Member me) {
        List<String> names = new ArrayList<>(nicknames.keySet());
        names.sort(null);
        send(connection, me, "* " + names.size() + " online: " + String.join(", ", names));
    }

    /**
     * The client sent its last line ({@code printf ... | nc -N}): it leaves once its lines have gone out
     * to the others and its own output is written. On the worker.
     */
    @Override
    public void onInputClosed(Connection connection) {
        Member me = connection.attr(MEMBER).get();
        if (me == null) {
            connection.close();
        } else if (!me.leaving) {
            leave(connection, me);
        }
    }

    /** Closes after pending output; the leave is announced in {@link #onClose}. */
    private void leave(Connection connection, Member me) {
        me.leaving = true;
        connection.close();
    }

    /** The room closes: says so; the framework closes after pending writes. On the worker. */
    @Override
    public void onShutdown(Connection connection) {
        Member me = connection.attr(MEMBER).get();
        if (me != null) {
            me.leaving = true;
            send(connection, me, "* server shutting down, goodbye");
        }
    }

    /** Quiet for the whole idle timeout: says why and closes. On the worker. */
    @Override
    public void ping(Connection connection) {
        Member me = connection.attr(MEMBER).get();
        if (me == null) {
            connection.close();
            return;
        }
        send(connection, me, "* idle too long, closing");
        leave(connection, me);
    }

    /** Frees the name and announces the leave, unless a drop announced it already. On the worker. */
    @Override
    public void onClose(Connection connection) {
        Member me = connection.attr(MEMBER).get();
        if (me == null) {
            return;
        }
        me.leaving = true;
        nicknames.remove(me.name, connection.id());
        if (!me.leaveAnnounced) {
            me.leaveAnnounced = true;
            broadcast(connection, "* " + me.name + " left");
        }
    }

    /**
     * Sends a line to every other chat connection, each on its own executor. A sender with
     * {@value #MAX_BROADCASTS_IN_FLIGHT} broadcasts not yet delivered stops being read until they are: the
     * receivers' queues stay bounded however fast one client talks. On the origin's executor.
     */
    private void broadcast(Connection origin, String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        Member sender = origin.attr(MEMBER).get();
        if (++sender.broadcastsInFlight == MAX_BROADCASTS_IN_FLIGHT) {
            origin.pauseReading();
        }
        // onFinish runs on the origin's executor, like this method, so the counter needs no lock.
        origin.server().each(origin, SERVICE, target -> deliver(target, bytes), () -> {
            if (sender.broadcastsInFlight-- == MAX_BROADCASTS_IN_FLIGHT) {
                origin.resumeReading();
            }
        });
    }

    /** On the target's executor: writes the line, or drops the target when it is too far behind. */
    private void deliver(Connection target, byte[] line) {
        Member m = target.attr(MEMBER).get();
        if (m == null || m.leaving) {
            return; // not yet welcomed, or on its way out
        }
        if (m.pending.get() + line.length > maxPendingBytes) {
            drop(target, m);
            return;
        }
        write(target, m, line);
    }

    /**
     * Drops a receiver that fell too far behind: no more lines for it, a reason line after its backlog,
     * a close after that, and a cut when it has not read them within the grace period.
     */
    private void drop(Connection target, Member m) {
        m.leaving = true;
        m.leaveAnnounced = true;
        log.debug("Chat connection {} ({}) dropped: more than {} bytes behind", target.id(), m.name, maxPendingBytes);
        send(target, m, "* dropped: you fell more than " + maxPendingBytes + " bytes behind");
        target.close();
        target.ioLoop().schedule(() -> target.abort(), dropGrace.toNanos(), TimeUnit.NANOSECONDS);
        broadcast(target, "* " + m.name + " left (too slow)");
    }

    private void send(Connection connection, Member m, String line) {
        write(connection, m, (line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Writes and counts the bytes as pending until the transport has taken them. */
    private static void write(Connection connection, Member m, byte[] bytes) {
        int length = bytes.length;
        m.pending.addAndGet(length);
        connection.write(Unpooled.wrappedBuffer(bytes)).addListener(f -> m.pending.addAndGet(-length));
    }

    /** One chat connection's state, attached to it. */
    private static final class Member {
        volatile String name;
        /** Bytes written to the connection that the transport has not yet taken: how far behind it is. */
        final AtomicLong pending = new AtomicLong();
        /** Leaving or dropped: it gets no more lines and its own lines are ignored. */
        volatile boolean leaving;
        volatile boolean leaveAnnounced;
        /** This member's broadcasts not yet run on every receiver; on its own executor only. */
        int broadcastsInFlight;

        Member(String name) {
            this.name = name;
        }
    }

    /** Limits of a {@link ChatProtocol}. Not thread-safe; {@link #build()} makes the protocol. */
    public static final class Builder {
        private int maxLineLength = 1024;
        private long maxPendingBytes = 1024 * 1024;
        private Duration dropGrace = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofMinutes(10);

        private Builder() {
        }

        /** The longest line, in bytes without its terminator; longer gets an error and a close. Default 1024. */
        public Builder maxLineLength(int bytes) {
            this.maxLineLength = SettingChecks.atLeast("maxLineLength", bytes, 1);
            return this;
        }

        /**
         * How many bytes may wait for one receiver before it is dropped as too slow. Default 1 MiB. Memory
         * per connection stays under about this much plus one line.
         */
        public Builder maxPendingBytes(long bytes) {
            this.maxPendingBytes = SettingChecks.atLeast("maxPendingBytes", bytes, 1);
            return this;
        }

        /**
         * How long a dropped receiver gets to read its backlog and the reason before it is cut: 0 to 1 hour.
         * Default 5 s.
         */
        public Builder dropGrace(Duration grace) {
            this.dropGrace = SettingChecks.notNegative("dropGrace", grace);
            return this;
        }

        /**
         * The idle timeout of chat connections, replacing the server's; {@link Duration#ZERO} keeps the
         * server's. At most 24 hours, the server's own limit. Default 10 minutes.
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = SettingChecks.notNegative("idleTimeout", timeout);
            return this;
        }

        /** The protocol with these limits. */
        public ChatProtocol build() {
            return new ChatProtocol(this);
        }
    }
}
