package dev.serverframework.http.internal;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Not a request: the aggregator's notice that the head of the request it is receiving asks for
 * {@code 100 Continue}. It reaches the protocol the way requests do, so it keeps its place among them, and
 * the protocol has the 100 written once every earlier request is answered
 * ({@link PipelineOrder#continueExpected}), never ahead of an earlier response. A full request only in
 * type (the protocol's message type), without content. Made on the I/O loop, handled on the connection's
 * executor.
 */
public final class ContinueExpected extends DefaultFullHttpRequest {
    /** The notice for this request head. */
    public ContinueExpected(HttpRequest head) {
        super(head.protocolVersion(), head.method(), head.uri(), Unpooled.EMPTY_BUFFER);
    }
}
