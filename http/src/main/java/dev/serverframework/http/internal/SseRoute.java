package dev.serverframework.http.internal;

import dev.serverframework.core.Protocol;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import dev.serverframework.http.sse.SseHandler;
import dev.serverframework.http.sse.SseOptions;

/** Placeholder until the SSE implementation lands. */
public final class SseRoute implements SwitchingRoute {
    public SseRoute(SseOptions options, SseHandler handler) {
    }

    @Override
    public void bind(Protocol.Execution execution) {
    }

    @Override
    public Outcome accept(Request request) {
        return Outcome.refuse(Response.status(501));
    }
}
