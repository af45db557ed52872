package dev.serverframework.examples.chat;

import dev.serverframework.core.Connection;
import dev.serverframework.echo.ChatMember;
import dev.serverframework.echo.ChatRoom;
import dev.serverframework.echo.ChatSink;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import dev.serverframework.http.sse.SseEvent;
import dev.serverframework.http.sse.SseHandler;
import dev.serverframework.http.sse.SseStream;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * Chat members for browsers without WebSocket: lines come down a Server-Sent Events stream and go up as
 * POSTs. The stream's first event ({@code event: token}) gives the member a random token, which each POST
 * carries in {@value WebChat#TOKEN_HEADER}; the POST's line is then said on the stream's own executor
 * ({@code Server.task}), in order with everything else of that member.
 *
 * <p><b>Reconnects.</b> Every line event's id is {@code TOKEN.POSITION}, the position being the id of the
 * last room line the member was handed. When the stream breaks, the member stays in the room, away, for the
 * away grace; the browser reconnects on its own and sends the last id it saw as {@code Last-Event-ID}, which
 * names the member and where it stopped: the member is seated on the new stream and gets the lines it
 * missed from the room's history, each once. Nobody is told of the blip. A member that does not come back
 * in time leaves. A member the room closed (a {@code /quit}) gets {@code event: bye} first, so that its
 * page stops reconnecting.
 *
 * <p>Thread-safe: shared by the route's streams and the POST route; stream callbacks run on the stream's
 * executor, POSTs on theirs.
 */
final class SseMembers implements SseHandler {
    private static final Logger log = LoggerFactory.getLogger(SseMembers.class);
    private static final AttributeKey<StreamSink> SINK = AttributeKey.valueOf(SseMembers.class, "sink");

    private final ChatRoom room;
    private final Duration awayGrace;
    private final Duration retry;
    private final SecureRandom random = new SecureRandom();
    /** The members' sessions by token, from their first stream until they leave for good. */
    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();

    SseMembers(ChatRoom room, Duration awayGrace, Duration retry) {
        this.room = room;
        this.awayGrace = awayGrace;
        this.retry = retry;
    }

    /** How many members hold a session (present or away); for tests and logs. Any thread. */
    int sessions() {
        return sessions.size();
    }

    /** Seats the stream's member: back in its seat when {@code Last-Event-ID} names one, else a new one. */
    @Override
    public void onOpen(SseStream stream) {
        Connection connection = stream.connection();
        Resume resume = Resume.parse(stream.lastEventId());
        Session session = resume == null ? null : sessions.get(resume.token);
        if (session != null) {
            ChatMember previous = session.member;
            if (previous != null && (previous.isPresent() || previous.isAway())) {
                StreamSink sink = new StreamSink(stream, session.token);
                connection.attr(SINK).set(sink);
                stream.send(tokenEvent(session.token));
                ChatMember back = room.rejoin(previous, connection, sink, resume.position);
                if (back != null) {
                    session.member = back;
                    log.debug("Chat member {} came back on connection {}", back.name(), connection.id());
                    return;
                }
            }
        }
        String token = newToken();
        // In the table before its token goes out, so that a POST right behind it is asked to retry (until the
        // member is seated) rather than told the token is unknown.
        Session fresh = new Session(token);
        sessions.put(token, fresh);
        StreamSink sink = new StreamSink(stream, token);
        connection.attr(SINK).set(sink);
        stream.send(tokenEvent(token));
        fresh.member = room.join(connection, sink);
    }

    private SseEvent tokenEvent(String token) {
        return SseEvent.of(null, "token", token).withRetry(retry);
    }

    /**
     * The stream ended: its member is away for the grace period (unless it was leaving, or was taken over by
     * a newer stream), then leaves if it has not come back. A stream ended by a stop leaves at once: its
     * server will not take the browser back.
     */
    @Override
    public void onClose(SseStream stream) {
        Connection connection = stream.connection();
        ChatMember me = room.member(connection);
        StreamSink sink = connection.attr(SINK).get();
        if (me == null || sink == null) {
            return;
        }
        Session session = sessions.get(sink.token);
        if (!connection.server().isRunning()) {
            room.left(me);
            forget(session, me);
        } else if (room.away(me)) {
            try {
                connection.server().runAfter(awayGrace, () -> room.onExecutorOf(me, () -> {
                    if (room.expire(me)) {
                        forget(session, me);
                    }
                }));
            } catch (RejectedExecutionException e) {
                // The server began to stop since: nobody will come back to it.
                room.left(me);
                forget(session, me);
            }
        } else {
            forget(session, me);
        }
    }

    /** Drops the session of a member that has left for good; a member taken over keeps its session. */
    private void forget(Session session, ChatMember me) {
        // Only a member that left can end its session: one that moved to a newer stream has handed it on.
        if (session != null && me.hasLeft()) {
            sessions.remove(session.token, session);
        }
    }

    /**
     * {@code POST /chat/send}: the body's lines, said by the member whose token the request carries, on its
     * stream's executor. 204 when said; 404 for an unknown token; 410 when the member has left; 503 (retry)
     * while its stream reconnects or it is being seated; 429 (retry) while too many of its lines are still on
     * their way. On the POST's connection's executor.
     */
    CompletionStage<Response> post(Request request) {
        String token = request.header(WebChat.TOKEN_HEADER);
        Session session = token == null ? null : sessions.get(token);
        if (session == null) {
            return CompletableFuture.completedFuture(Response.text("no such chat session\n").withStatus(404));
        }
        ChatMember member = session.member;
        if (member == null) {
            return CompletableFuture.completedFuture(retryLater("joining"));
        }
        String text = request.bodyText();
        CompletableFuture<Response> answer = new CompletableFuture<>();
        Connection stream = member.connection();
        // The stream gone and the member not yet left: it is away, or its newer stream is being seated.
        stream.server().task(stream.id(), c -> answer.complete(say(c, member, text)),
                () -> answer.complete(member.hasLeft() ? gone() : retryLater("reconnecting")));
        return answer;
    }

    /** On the stream's executor: says the lines, or tells why not. */
    private Response say(Connection stream, ChatMember member, String text) {
        if (!member.isPresent()) {
            return member.hasLeft() ? gone() : retryLater("reconnecting");
        }
        StreamSink sink = stream.attr(SINK).get();
        if (sink != null && sink.paused) {
            return retryLater("too many lines on their way").withStatus(429);
        }
        room.sayLines(member, text);
        return Response.status(204);
    }

    private static Response gone() {
        return Response.text("this chat member has left\n").withStatus(410);
    }

    private static Response retryLater(String why) {
        return Response.text(why + "; try again\n").withStatus(503).header("Retry-After", 1);
    }

    private String newToken() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** One browser's membership across its streams. */
    private static final class Session {
        final String token;
        /** The member on the latest stream (null until the first is seated); replaced when the browser comes back. */
        volatile ChatMember member;

        Session(String token) {
            this.token = token;
        }
    }

    /** What a {@code Last-Event-ID} says: whose stream it was and the last room line it got. */
    private record Resume(String token, long position) {
        static Resume parse(String lastEventId) {
            if (lastEventId == null) {
                return null;
            }
            int dot = lastEventId.lastIndexOf('.');
            if (dot <= 0) {
                return null;
            }
            try {
                return new Resume(lastEventId.substring(0, dot), Long.parseLong(lastEventId.substring(dot + 1)));
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** A member's lines as events with ids; on the stream's executor. */
    private static final class StreamSink implements ChatSink {
        private final SseStream stream;
        private final String token;
        /** Too many of the member's lines are on their way: POSTs get 429. On the stream's executor. */
        boolean paused;

        StreamSink(SseStream stream, String token) {
            this.stream = stream;
            this.token = token;
        }

        /** False only when the stream was open and the send ended it as too slow. */
        @Override
        public boolean send(String line, long position) {
            return !stream.isOpen() || stream.send(SseEvent.of(token + "." + position, null, line));
        }

        /** Says {@code bye}, so that the page does not reconnect, and ends the stream. */
        @Override
        public void close() {
            stream.send(SseEvent.of(null, "bye", ""));
            stream.close();
        }

        @Override
        public void pauseInput() {
            paused = true;
        }

        @Override
        public void resumeInput() {
            paused = false;
        }

        @Override
        public boolean echoesOwnLines() {
            return true;
        }
    }
}
