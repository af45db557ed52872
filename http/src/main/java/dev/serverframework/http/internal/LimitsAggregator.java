package dev.serverframework.http.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/**
 * Netty's aggregator with this server's answers to its two edge cases: a body over the limit (announced,
 * or growing past it while chunked) is passed on as a request failed with
 * {@link TooLongHttpContentException}, which the protocol answers 413 in request order and closes (the
 * rest of the body is discarded); {@code Expect: 100-continue} gets 100, that same 413 when the announced
 * body is over the limit, or 417 and close for an unknown expectation. Runs on the I/O loop.
 */
public final class LimitsAggregator extends HttpObjectAggregator {
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final CharSequence serverHeader;
    private boolean expectationFailed;

    /** Aggregates bodies up to {@code maxContentLength} bytes; its own answers carry this {@code Server} header. */
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
        // Netty picked the status (100, 413 or 417); answer it as bytes, since responses are encoded by the
        // protocol and no encoder sits in the pipeline.
        HttpResponseStatus status = ((HttpResponse) standard).status();
        ReferenceCountUtil.release(standard);
        if (status.code() == HttpResponseStatus.CONTINUE.code()) {
            return Unpooled.wrappedBuffer(CONTINUE);
        }
        if (status.code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            // None here: the aggregator then sees the announced length is too large and calls
            // handleOversizedMessage, whose 413 keeps its place among pipelined responses.
            return null;
        }
        expectationFailed = true;
        return ErrorResponses.encoded(status, serverHeader, true);
    }

    /** After a 417 the aggregator drops the body (its answer is bytes, which it cannot classify itself). */
    @Override
    protected boolean ignoreContentAfterContinueResponse(Object msg) {
        return expectationFailed;
    }

    /** A 417 closes the connection. */
    @Override
    protected boolean closeAfterContinueResponse(Object msg) {
        return expectationFailed;
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
