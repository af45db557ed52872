package dev.serverframework.core.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The whole pipeline of a connection refused over the connection limit: it answers with the protocol's
 * {@link dev.serverframework.core.BusyAnswer} (once the request has arrived, when the answer waits for one) and then closes with a
 * {@link LingeringClose}, so the client reads the answer rather than a reset. It holds no worker and no
 * protocol state, only the search state for the end of the request. Runs on the I/O loop.
 */
final class RefusalHandler extends ChannelInboundHandlerAdapter {
    /** How long a refused client has to send its request before it is answered anyway. */
    static final long REQUEST_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Bytes of a request read at most before it is answered anyway. */
    static final int MAX_REQUEST_BYTES = 16 * 1024;
    /**
     * The longest a refused connection lingers after its answer: its request has been read, and it holds
     * a file the server is short of, so it gets less than an admitted connection's linger.
     */
    static final long MAX_LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final byte[] answer;
    private final byte[] requestEnd;
    private final long lingerNanos;
    /** For each prefix of {@link #requestEnd}, the longest proper prefix that is also its suffix (KMP). */
    private final int[] fallback;
    private int matched;
    private int requestBytes;
    private boolean answered;
    private ScheduledFuture<?> deadline;

    /**
     * @param answer     what to answer, or {@code null} to close without a word
     * @param requestEnd the bytes that end the client's request, or {@code null} to answer at once
     */
    RefusalHandler(byte[] answer, byte[] requestEnd, long lingerNanos) {
        this.answer = answer;
        this.requestEnd = answer == null ? null : requestEnd;
        this.lingerNanos = Math.min(lingerNanos, MAX_LINGER_NANOS);
        this.fallback = this.requestEnd == null ? null : failureTable(this.requestEnd);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (requestEnd == null) {
            answer(ctx);
        } else {
            deadline = ctx.executor().schedule(() -> answer(ctx), REQUEST_WAIT_NANOS, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!answered && msg instanceof ByteBuf buf && endsRequest(buf)) {
                answer(ctx);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !answered) {
            answer(ctx);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A refused peer that resets is nothing to report.
        ctx.close();
    }

    /** Whether the request's end is in these bytes (or enough has been read to answer anyway). */
    private boolean endsRequest(ByteBuf buf) {
        for (int i = buf.readerIndex(), end = buf.writerIndex(); i < end; i++) {
            byte b = buf.getByte(i);
            while (matched > 0 && requestEnd[matched] != b) {
                matched = fallback[matched - 1];
            }
            if (requestEnd[matched] == b && ++matched == requestEnd.length) {
                return true;
            }
        }
        requestBytes += buf.readableBytes();
        return requestBytes >= MAX_REQUEST_BYTES;
    }

    private void answer(ChannelHandlerContext ctx) {
        if (answered) {
            return;
        }
        answered = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        // From here on the lingering close reads and discards what the client still sends.
        LingeringClose linger = LingeringClose.install(ctx.pipeline(), ctx.name(), lingerNanos);
        ctx.pipeline().remove(this);
        if (answer == null || !ctx.channel().isActive()) {
            linger.outputDone();
            return;
        }
        ctx.channel().writeAndFlush(Unpooled.wrappedBuffer(answer)).addListener(f -> linger.outputDone());
    }

    private static int[] failureTable(byte[] pattern) {
        int[] table = new int[pattern.length];
        for (int i = 1, k = 0; i < pattern.length; i++) {
            while (k > 0 && pattern[i] != pattern[k]) {
                k = table[k - 1];
            }
            if (pattern[i] == pattern[k]) {
                k++;
            }
            table[i] = k;
        }
        return table;
    }
}
