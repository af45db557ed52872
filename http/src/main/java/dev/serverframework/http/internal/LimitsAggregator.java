package dev.serverframework.http.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.TooLongHttpContentException;

/**
 * Netty's aggregator, except that it writes nothing itself: Netty's would write its answers to
 * {@code Expect} and to a body over the limit at once, on the I/O loop, ahead of the response to an earlier
 * pipelined request that a handler is still preparing. Here:
 * <ul>
 * <li>a body over the limit (announced, or growing past it while chunked) is passed on as a request failed
 *     with {@link TooLongHttpContentException}, which the protocol answers 413 in request order and closes
 *     (the rest of the body is discarded);</li>
 * <li>{@code Expect: 100-continue} is passed on as a {@link ContinueExpected} notice ahead of the request,
 *     and the protocol writes the 100 once every earlier request is answered; with a body announced over
 *     the limit, the request gets that 413 instead;</li>
 * <li>a request the decoder failed passes on as it is, answered for that failure (an expectation other
 *     than 100-continue is one: 417), with no 100 and no 413.</li>
 * </ul>
 * Runs on the I/O loop.
 */
public final class LimitsAggregator extends HttpObjectAggregator {

    /** Aggregates bodies up to {@code maxContentLength} bytes. */
    public LimitsAggregator(int maxContentLength) {
        super(maxContentLength);
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        if (start.decoderResult().isSuccess() && HttpUtil.is100ContinueExpected(start)
                && !isContentLengthInvalid(start, maxContentLength)) {
            // The server answers the expectation; the handler sees a request without it, as with Netty's.
            start.headers().remove(HttpHeaderNames.EXPECT);
            ctx().fireChannelRead(new ContinueExpected((HttpRequest) start));
        }
        // Nothing for Netty to write: an announced body over the limit gets its 413 from handleOversizedMessage.
        return null;
    }

    @Override
    protected boolean isContentLengthInvalid(HttpMessage start, int maxContentLength) {
        // A request the decoder failed is answered for that failure, whatever length it announces.
        return start.decoderResult().isSuccess() && super.isContentLengthInvalid(start, maxContentLength);
    }

    /**
     * Hands the protocol a failed request instead of answering here: the 413 then goes out after the
     * responses to earlier pipelined requests (a handler may still be preparing one), and closes.
     */
    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        HttpRequest start = (HttpRequest) oversized;
        FullHttpRequest failed = new DefaultFullHttpRequest(start.protocolVersion(), start.method(), start.uri(),
                Unpooled.EMPTY_BUFFER);
        failed.setDecoderResult(DecoderResult.failure(
                new TooLongHttpContentException("request body over " + maxContentLength() + " bytes")));
        ctx.fireChannelRead(failed);
    }
}
