package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.core.SettingChecks;
import dev.serverframework.echo.internal.LineFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A chat room over a line protocol: every line a client sends reaches every other member of the room,
 * prefixed by the sender's name ({@code alice: hello}). Commands: {@code /nick NAME} renames,
 * {@code /who} lists who is online (count and names), {@code /quit} leaves. Joins and leaves are
 * announced as lines starting with {@code *}; errors are lines starting with {@code error:}. The room
 * itself is a {@link ChatRoom}, which other transports (a web page's WebSocket or SSE stream) and other
 * servers can share: {@link Builder#room}.
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
 * <p>Thread-safe: one instance serves every connection of one server (nicknames are unique per room).
 * Callbacks run on each connection's worker ({@link Execution#WORKER}).
 */
public final class ChatProtocol implements Protocol<ByteBuf> {
    private static final Logger log = LoggerFactory.getLogger(ChatProtocol.class);

    /** The service name of chat connections, {@link ChatRoom#SERVICE}. */
    public static final String SERVICE = ChatRoom.SERVICE;

    private final ChatRoom room;
    private final int maxLineLength;
    private final long maxPendingBytes;
    private final Duration dropGrace;
    private final Duration idleTimeout;

    /** A chat room of its own with the default limits (see {@link Builder}). */
    public ChatProtocol() {
        this(new Builder());
    }

    private ChatProtocol(Builder b) {
        this.room = b.room != null ? b.room : ChatRoom.builder().maxLineLength(b.maxLineLength).build();
        this.maxLineLength = room.maxLineLength();
        this.maxPendingBytes = b.maxPendingBytes;
        this.dropGrace = b.dropGrace;
        this.idleTimeout = b.idleTimeout;
    }

    /** Starts building a chat protocol with other limits. */
    public static Builder builder() {
        return new Builder();
    }

    /** The room this protocol seats its connections in. Any thread. */
    public ChatRoom room() {
        return room;
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

    /** Names the newcomer {@code guest-ID}, announces it to the others and welcomes it. On the worker. */
    @Override
    public void onOpen(Connection connection) {
        if (!idleTimeout.isZero()) {
            connection.idleTimeout(idleTimeout);
        }
        room.join(connection, new LineSink(connection));
    }

    /** A line or a command. On the worker. */
    @Override
    public void onData(Connection connection, ByteBuf message) {
        ChatMember me = room.member(connection);
        if (me != null) {
            room.say(me, LineFrameDecoder.text(message));
        }
    }

    /** A line over the limit: an error line, then the member leaves. On the worker. */
    @Override
    public void onInputTooLong(Connection connection, TooLongFrameException cause) {
        ChatMember me = room.member(connection);
        if (me == null) {
            connection.close();
        } else {
            room.tooLong(me, cause.getMessage());
        }
    }

    /**
     * The client sent its last line ({@code printf ... | nc -N}): it leaves once its lines have gone out
     * to the others and its own output is written. On the worker.
     */
    @Override
    public void onInputClosed(Connection connection) {
        ChatMember me = room.member(connection);
        if (me == null) {
            connection.close();
        } else {
            room.leave(me);
        }
    }

    /** The room closes: says so; the framework closes after pending writes. On the worker. */
    @Override
    public void onShutdown(Connection connection) {
        ChatMember me = room.member(connection);
        if (me != null) {
            room.serverStopping(me);
        }
    }

    /** Quiet for the whole idle timeout: says why and closes. On the worker. */
    @Override
    public void ping(Connection connection) {
        ChatMember me = room.member(connection);
        if (me == null || !me.isPresent()) {
            connection.close();
        } else {
            room.idle(me);
        }
    }

    /** Frees the name and announces the leave, unless a drop announced it already. On the worker. */
    @Override
    public void onClose(Connection connection) {
        ChatMember me = room.member(connection);
        if (me != null) {
            room.left(me);
        }
    }

    /**
     * A member's lines as text lines on its TCP connection. Counts what the transport has not taken yet,
     * and drops the member when a line would put it more than {@code maxPendingBytes} behind. Called on
     * the connection's worker; the count also goes down in write listeners on the I/O loop.
     */
    private final class LineSink implements ChatSink {
        private final Connection connection;
        /** Bytes written to the connection that the transport has not yet taken: how far behind it is. */
        private final AtomicLong pending = new AtomicLong();
        private boolean dropped;

        LineSink(Connection connection) {
            this.connection = connection;
        }

        @Override
        public boolean send(String line, long position) {
            if (dropped) {
                return false;
            }
            byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
            if (pending.get() + bytes.length > maxPendingBytes) {
                drop();
                return false;
            }
            write(bytes);
            return true;
        }

        /**
         * No more lines for it: a reason line after its backlog, a close after that, and a cut when it has
         * not read them within the grace period.
         */
        private void drop() {
            dropped = true;
            log.debug("Chat connection {} dropped: more than {} bytes behind", connection.id(), maxPendingBytes);
            write(("* dropped: you fell more than " + maxPendingBytes + " bytes behind\n").getBytes(StandardCharsets.UTF_8));
            connection.close();
            connection.ioLoop().schedule(() -> connection.abort(), dropGrace.toNanos(), TimeUnit.NANOSECONDS);
        }

        /** Writes and counts the bytes as pending until the transport has taken them. */
        private void write(byte[] bytes) {
            int length = bytes.length;
            pending.addAndGet(length);
            connection.write(Unpooled.wrappedBuffer(bytes)).addListener(f -> pending.addAndGet(-length));
        }

        @Override
        public void close() {
            connection.close();
        }

        @Override
        public void pauseInput() {
            connection.pauseReading();
        }

        @Override
        public void resumeInput() {
            connection.resumeReading();
        }
    }

    /** Limits of a {@link ChatProtocol}. Not thread-safe; {@link #build()} makes the protocol. */
    public static final class Builder {
        private ChatRoom room;
        private boolean maxLineLengthSet;
        private int maxLineLength = 1024;
        private long maxPendingBytes = 1024 * 1024;
        private Duration dropGrace = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofMinutes(10);

        private Builder() {
        }

        /**
         * Seats the connections in this room, shared with other transports or servers, instead of a room of
         * the protocol's own. The longest line is then the room's {@link ChatRoom#maxLineLength}.
         */
        public Builder room(ChatRoom room) {
            this.room = Objects.requireNonNull(room, "room");
            return this;
        }

        /**
         * The longest line, in bytes without its terminator; longer gets an error and a close. Default 1024.
         * With a {@link #room} given, the limit is the room's: set it on {@link ChatRoom#builder()}.
         */
        public Builder maxLineLength(int bytes) {
            this.maxLineLength = SettingChecks.atLeast("maxLineLength", bytes, 1);
            this.maxLineLengthSet = true;
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

        /**
         * The protocol with these limits.
         *
         * @throws IllegalStateException when both a {@link #room} and a {@link #maxLineLength} were given
         */
        public ChatProtocol build() {
            if (room != null && maxLineLengthSet) {
                throw new IllegalStateException(
                        "maxLineLength: with a room given, the longest line is the room's (ChatRoom.builder().maxLineLength)");
            }
            return new ChatProtocol(this);
        }
    }
}
