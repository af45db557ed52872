package dev.serverframework.examples.chat;

import dev.serverframework.echo.ChatMember;
import dev.serverframework.echo.ChatRoom;
import dev.serverframework.echo.ChatSink;
import dev.serverframework.http.websocket.WebSocket;
import dev.serverframework.http.websocket.WebSocketHandler;
import io.netty.buffer.ByteBuf;

/**
 * Chat members on WebSockets: each text message holds one line or more, and each line the member gets is
 * one text message, its own lines included so that the page shows the room's order. A socket that reads
 * too slowly is closed by the WebSocket layer with 1008 when its queue is full, and the room announces
 * it left. Shared by the route's sockets; every callback on the socket's executor.
 */
final class WebSocketMembers implements WebSocketHandler {
    private final ChatRoom room;

    WebSocketMembers(ChatRoom room) {
        this.room = room;
    }

    /** Seats the socket in the room: it gets its welcome, the others hear it joined. */
    @Override
    public void onOpen(WebSocket socket) {
        room.join(socket.connection(), new Sink(socket));
    }

    /** Lines from the member, said in turn. */
    @Override
    public void onText(WebSocket socket, String text) {
        ChatMember me = room.member(socket.connection());
        if (me != null) {
            room.sayLines(me, text);
        }
    }

    /** Chat lines are text: a binary message closes with 1003 (RFC 6455 7.4.1). */
    @Override
    public void onBinary(WebSocket socket, ByteBuf data) {
        socket.close(1003, "chat lines are text messages");
    }

    /** The member leaves: its name is freed and the others are told. */
    @Override
    public void onClose(WebSocket socket, int code, String reason) {
        ChatMember me = room.member(socket.connection());
        if (me != null) {
            room.left(me);
        }
    }

    /** A member's lines as text messages. */
    private static final class Sink implements ChatSink {
        private final WebSocket socket;

        Sink(WebSocket socket) {
            this.socket = socket;
        }

        /** False only when the socket was open and the send closed it as too slow. */
        @Override
        public boolean send(String line, long position) {
            return !socket.isOpen() || socket.send(line);
        }

        @Override
        public void close() {
            socket.close();
        }

        @Override
        public void pauseInput() {
            socket.connection().pauseReading();
        }

        @Override
        public void resumeInput() {
            socket.connection().resumeReading();
        }

        @Override
        public boolean echoesOwnLines() {
            return true;
        }
    }
}
