package dev.serverframework.http.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Netty's aggregator with this server's answers to its two edge cases: a body over the limit gets 413
 * and the connection closed (the rest of the body is never read); {@code Expect: 100-continue} gets
 * 100, or 413 and close when the announced body is over the limit, or 417 for an unknown expectation.
 * Runs on the I/O loop.
 */
public final class LimitsAggregator extends HttpObjectAggregator {
    private final CharSequence serverHeader;

    public LimitsAggregator(int maxContentLength, CharSequence serverHeader) {
        super(maxContentLength, true);
        this.serverHeader = serverHeader;
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object standard = super.newContinueResponse(start, maxContentLength, pipeline);
        if (standard == null) {
            return null;
        }
        // Netty picked the status (100, 413 or 417); answer it with this server's headers.
        HttpResponseStatus status = ((io.netty.handler.codec.http.HttpResponse) standard).status();
        io.netty.util.ReferenceCountUtil.release(standard);
        if (status.code() == HttpResponseStatus.CONTINUE.code()) {
            return new io.netty.handler.codec.http.DefaultFullHttpResponse(
                    io.netty.handler.codec.http.HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    io.netty.buffer.Unpooled.EMPTY_BUFFER);
        }
        return ErrorResponses.full(status, serverHeader, true);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ctx.writeAndFlush(ErrorResponses.full(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, serverHeader, true))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
