package dev.serverframework.http.internal;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A request with an {@code Upgrade} field, as the {@link RequestDecoder} passes it on: the decoder holds
 * what the client sent behind it until the protocol either switches (the held bytes go to the next
 * protocol) or calls {@link #declined()} (the decoder goes on with them as HTTP). Made on the I/O loop,
 * answered on the connection's executor.
 */
public final class UpgradeRequest extends DefaultFullHttpRequest {
    private final Runnable resume;

    UpgradeRequest(HttpVersion version, HttpMethod method, String uri, ByteBuf content, HttpHeaders headers,
                   HttpHeaders trailers, Runnable resume) {
        super(version, method, uri, content, headers, trailers, false);
        this.resume = resume;
    }

    /**
     * The connection stays HTTP: the decoder goes on with what arrived behind this request. Any thread;
     * call it once, whatever the answer, unless the protocol switched.
     */
    public void declined() {
        resume.run();
    }
}
