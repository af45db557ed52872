package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.echo.internal.LineFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A transport that can resume, for the room's tests, shaped like the web chat's SSE streams but over
 * lines: the client's first line is {@code new} (join) or {@code resume NAME LAST_SEEN} (come back as
 * NAME, which is away or still present); each line it then gets is {@code POSITION TEXT}, its own lines
 * included; its other lines are said in the room, several per line when separated by {@code |}. A closed
 * connection leaves its member away until {@link #expire}.
 */
final class ResumableLineProtocol implements Protocol<ByteBuf> {
    private final ChatRoom room;
    /** The latest member of each name this transport seated. */
    private final Map<String, ChatMember> members = new ConcurrentHashMap<>();

    ResumableLineProtocol(ChatRoom room) {
        this.room = room;
    }

    @Override
    public String service() {
        return ChatRoom.SERVICE;
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        // Longer than the rooms of the tests allow: the room's own limit is what is tested.
        pipeline.addLast("lines", new LineFrameDecoder(64 * 1024));
    }

    @Override
    public void onData(Connection connection, ByteBuf message) {
        String text = LineFrameDecoder.text(message);
        ChatMember me = room.member(connection);
        if (me != null) {
            room.sayLines(me, text.replace('|', '\n'));
        } else if (text.equals("new")) {
            remember(room.join(connection, new Sink(connection)));
        } else if (text.startsWith("resume ")) {
            String[] words = text.split(" ");
            ChatMember previous = members.get(words[1]);
            ChatMember back = previous == null ? null
                    : room.rejoin(previous, connection, new Sink(connection), Long.parseLong(words[2]));
            if (back == null) {
                connection.write("0 no such member\n");
            } else {
                remember(back);
            }
        }
    }

    private void remember(ChatMember m) {
        members.put(m.name(), m);
    }

    @Override
    public void onClose(Connection connection) {
        ChatMember me = room.member(connection);
        if (me != null) {
            room.away(me);
        }
    }

    /** Ends the away time of the member of that name now, as a timer would; true if it left. */
    boolean expire(String name) throws Exception {
        ChatMember m = members.get(name);
        CompletableFuture<Boolean> left = new CompletableFuture<>();
        if (!room.onExecutorOf(m, () -> left.complete(room.expire(m)))) {
            return false;
        }
        return left.get(10, TimeUnit.SECONDS);
    }

    /** Lines as {@code POSITION TEXT}, the member's own lines too. */
    private static final class Sink implements ChatSink {
        private final Connection connection;

        Sink(Connection connection) {
            this.connection = connection;
        }

        @Override
        public boolean send(String line, long position) {
            connection.write(position + " " + line + "\n");
            return true;
        }

        @Override
        public void close() {
            connection.close();
        }

        @Override
        public boolean echoesOwnLines() {
            return true;
        }
    }
}
