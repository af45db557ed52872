package dev.serverframework.examples.chat;

import dev.serverframework.core.SettingChecks;
import dev.serverframework.echo.ChatRoom;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.sse.SseOptions;
import dev.serverframework.http.websocket.WebSocketOptions;

import java.time.Duration;
import java.util.Objects;

/**
 * The chat for browsers, seated in a {@link ChatRoom} that line clients may share: a page at
 * {@value #PAGE_PATH}, which chats over a WebSocket at {@value #WEBSOCKET_PATH}, or, where WebSocket is
 * missing (or {@code ?transport=sse} asks), reads a Server-Sent Events stream at {@value #EVENTS_PATH}
 * and POSTs its lines to {@value #SEND_PATH}. Every member connection, whatever its transport, is of
 * service {@value ChatRoom#SERVICE}, so the room's {@code Server.each} reaches them all.
 *
 * <pre>{@code
 * ChatRoom room = new ChatRoom();
 * Server lines = Server.builder().port(7008).protocol(ChatProtocol.builder().room(room).build()).build().start();
 * Server web = Server.builder().port(8008).protocol(WebChat.builder(room).build().protocol()).build().start();
 * }</pre>
 *
 * <p>Immutable once built; its routes are shared by every connection of the HTTP server.
 */
public final class WebChat {
    /** The page. */
    public static final String PAGE_PATH = "/";
    /** The WebSocket endpoint: text messages both ways, one chat line each (several lines per message in). */
    public static final String WEBSOCKET_PATH = "/chat/ws";
    /** The Server-Sent Events stream of the fallback. */
    public static final String EVENTS_PATH = "/chat/events";
    /** Where the fallback POSTs its lines, with its token in {@value #TOKEN_HEADER}. */
    public static final String SEND_PATH = "/chat/send";
    /** The request header of a POST that names its member: the token of its stream's first event. */
    public static final String TOKEN_HEADER = "X-Chat-Token";

    private final ChatRoom room;
    private final ChatPage page;
    private final int maxMessageBytes;
    private final WebSocketOptions socketOptions;
    private final SseOptions streamOptions;
    private final WebSocketMembers sockets;
    private final SseMembers streams;

    private WebChat(Builder b) {
        this.room = b.room;
        this.page = new ChatPage(room.maxLineLength());
        // A message may hold several lines; each is held to the room's limit when it is said.
        this.maxMessageBytes = (int) Math.min(64L << 20, Math.max(64 * 1024, 4L * room.maxLineLength()));
        this.socketOptions = WebSocketOptions.builder()
                .service(ChatRoom.SERVICE)
                .compression(true)
                .maxMessageSize(maxMessageBytes)
                .maxQueuedBytes(b.maxQueuedBytes)
                .idleTimeout(b.pingInterval)
                .build();
        this.streamOptions = SseOptions.builder()
                .service(ChatRoom.SERVICE)
                .maxQueuedBytes(b.maxQueuedBytes)
                .heartbeat(b.heartbeat)
                .build();
        this.sockets = new WebSocketMembers(room);
        this.streams = new SseMembers(room, b.awayGrace, b.retry);
    }

    /** Starts building the web chat of this room. Any thread; the builder is then used on that one. */
    public static Builder builder(ChatRoom room) {
        return new Builder(room);
    }

    /** The room. Any thread. */
    public ChatRoom room() {
        return room;
    }

    /** How many SSE members hold a session (present, or away and may come back). Any thread. */
    public int sseSessions() {
        return streams.sessions();
    }

    /**
     * Adds the page, the WebSocket, the event stream and the POST route to an HTTP protocol being built. Its
     * {@code maxBodySize} should be {@link #maxMessageBytes()}, so that a bigger POST gets 413. On the
     * builder's thread.
     */
    public HttpProtocol.Builder routes(HttpProtocol.Builder http) {
        return http.get(PAGE_PATH, req -> page.response())
                .websocket(WEBSOCKET_PATH, socketOptions, sockets)
                .sse(EVENTS_PATH, streamOptions, streams)
                .postAsync(SEND_PATH, streams::post);
    }

    /** The largest WebSocket message or POST body, in bytes: a bigger one gets 1009 or 413. Any thread. */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** An HTTP protocol with the web chat's routes only, and POST bodies held to {@link #maxMessageBytes()}. */
    public HttpProtocol protocol() {
        return routes(HttpProtocol.builder().maxBodySize(maxMessageBytes)).build();
    }

    /** Settings of a {@link WebChat}. Not thread-safe; a setting out of its range fails at once, naming it. */
    public static final class Builder {
        private final ChatRoom room;
        private long maxQueuedBytes = 1024 * 1024;
        private Duration awayGrace = Duration.ofSeconds(30);
        private Duration retry = Duration.ofSeconds(1);
        private Duration heartbeat = Duration.ofSeconds(15);
        private Duration pingInterval = Duration.ofSeconds(30);

        private Builder(ChatRoom room) {
            this.room = Objects.requireNonNull(room, "room");
        }

        /**
         * The bytes that may wait for a slow browser before it is dropped (its WebSocket closed with 1008, its
         * stream ended), at least 1. Default 1 MiB, as for line clients.
         */
        public Builder maxQueuedBytes(long bytes) {
            this.maxQueuedBytes = SettingChecks.atLeast("maxQueuedBytes", bytes, 1);
            return this;
        }

        /**
         * How long a member whose event stream broke stays in the room, away, for its browser to reconnect
         * before it leaves, 0 to 1 hour. Default 30 s.
         */
        public Builder awayGrace(Duration grace) {
            this.awayGrace = SettingChecks.range("awayGrace", grace, Duration.ZERO, Duration.ofHours(1));
            return this;
        }

        /** How long a browser waits before reconnecting a broken event stream, 100 ms to 1 min. Default 1 s. */
        public Builder retry(Duration delay) {
            this.retry = SettingChecks.range("retry", delay, Duration.ofMillis(100), Duration.ofMinutes(1));
            return this;
        }

        /** The quiet time after which an event stream gets a comment line, 1 s to 1 hour. Default 15 s. */
        public Builder heartbeat(Duration interval) {
            this.heartbeat = SettingChecks.range("heartbeat", interval, Duration.ofSeconds(1), Duration.ofHours(1));
            return this;
        }

        /**
         * The quiet time after which a WebSocket is pinged (and closed when the ping goes unanswered), 1 s to
         * 24 hours. Default 30 s.
         */
        public Builder pingInterval(Duration interval) {
            this.pingInterval = SettingChecks.range("pingInterval", interval, Duration.ofSeconds(1), Duration.ofHours(24));
            return this;
        }

        /** The web chat. */
        public WebChat build() {
            return new WebChat(this);
        }
    }
}
