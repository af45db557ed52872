package dev.serverframework.http.sse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * One Server-Sent Event: optional {@code id}, {@code event} (type) and {@code retry}, and its data, which
 * may span lines (each becomes a {@code data:} line; CR LF, CR and LF all end a line). Encoded once, when
 * first sent, so that an event broadcast to many streams is encoded once. Immutable; any thread.
 */
public final class SseEvent {
    private final String id;
    private final String event;
    private final String data;
    private final Duration retry;
    private volatile byte[] encoded;

    private SseEvent(String id, String event, String data, Duration retry) {
        this.id = checkLine("id", id);
        this.event = checkLine("event", event);
        this.data = Objects.requireNonNull(data, "data");
        this.retry = retry;
        if (id != null && id.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("an event id may not contain NUL");
        }
        if (retry != null && retry.isNegative()) {
            throw new IllegalArgumentException("retry must not be negative, got " + retry);
        }
    }

    /** An event with only data. */
    public static SseEvent data(String data) {
        return new SseEvent(null, null, data, null);
    }

    /** An event with this id (null: none), type (null: the default, "message") and data. */
    public static SseEvent of(String id, String event, String data) {
        return new SseEvent(id, event, data, null);
    }

    /** This event with a {@code retry} field: how long the client waits before reconnecting. */
    public SseEvent withRetry(Duration retry) {
        return new SseEvent(id, event, data, Objects.requireNonNull(retry, "retry"));
    }

    /** The id, or null. */
    public String id() {
        return id;
    }

    /** The event type, or null. */
    public String event() {
        return event;
    }

    /** The data. */
    public String data() {
        return data;
    }

    /** The retry time, or null. */
    public Duration retry() {
        return retry;
    }

    /**
     * The event in the {@code text/event-stream} format, UTF-8, ending with its blank line. The array is
     * the event's own, shared by every stream it is sent to: read it, never change it.
     */
    public byte[] encoded() {
        byte[] e = encoded;
        if (e == null) {
            e = encode().getBytes(StandardCharsets.UTF_8);
            encoded = e;
        }
        return e;
    }

    private String encode() {
        StringBuilder sb = new StringBuilder(data.length() + 16);
        if (id != null) {
            sb.append("id: ").append(id).append('\n');
        }
        if (event != null) {
            sb.append("event: ").append(event).append('\n');
        }
        if (retry != null) {
            sb.append("retry: ").append(retry.toMillis()).append('\n');
        }
        int start = 0;
        int n = data.length();
        for (int i = 0; i < n; i++) {
            char c = data.charAt(i);
            if (c == '\r' || c == '\n') {
                sb.append("data: ").append(data, start, i).append('\n');
                if (c == '\r' && i + 1 < n && data.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        sb.append("data: ").append(data, start, n).append("\n\n");
        return sb.toString();
    }

    private static String checkLine(String field, String value) {
        if (value != null && (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0)) {
            throw new IllegalArgumentException("an event " + field + " may not contain a line break");
        }
        return value;
    }

    @Override
    public String toString() {
        return "SseEvent[id=" + id + ", event=" + event + ", data=" + data + ", retry=" + retry + "]";
    }
}
