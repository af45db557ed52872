package dev.serverframework.http.internal;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Not a request: the decoder's notice that the head of the request it is decoding asks for
 * {@code 100 Continue}. It reaches the protocol the way requests do, so it keeps its place among them, and
 * the protocol has the 100 written once every earlier request is answered
 * ({@link PipelineOrder#continueExpected}), never ahead of an earlier response. A full request only in
 * type (the protocol's message type), without content. Made on the I/O loop, handled on the connection's
 * executor.
 */
public final class ContinueExpected extends DefaultFullHttpRequest {
    /** The notice for the request head just decoded. */
    public ContinueExpected() {
        super(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.EMPTY_BUFFER);
    }
}
