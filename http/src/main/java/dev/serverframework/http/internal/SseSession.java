package dev.serverframework.http.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.http.sse.SseStream;

/** Placeholder until the SSE implementation lands. */
public final class SseSession {
    public static SseStream of(Connection connection) {
        return null;
    }
}
