package dev.serverframework.core.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.stream.ChunkedInput;
import io.netty.util.ReferenceCountUtil;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;

/**
 * The connection's own write queue, nearest the socket (after TLS): while the transport is writable a
 * write passes straight through; otherwise it waits here, where an urgent write can still overtake it.
 * What has passed to the transport is never reordered, so an urgent write never splits a message.
 * It also counts written bytes and implements close-after-pending-writes: from the close request on the
 * peer's input stops reaching the protocol, and once the last write has gone out the
 * {@link LingeringClose} shuts down output and closes. Runs on the I/O loop only.
 */
final class OutboundQueueHandler extends ChannelDuplexHandler {
    /**
     * Written through the pipeline by {@code Connection.close()}: no codec knows its type, so each
     * passes it on in order; when it reaches this handler everything written before it is here too.
     */
    static final Object CLOSE_AFTER_WRITES = new Object() {
        @Override
        public String toString() {
            return "CLOSE_AFTER_WRITES";
        }
    };

    private final ConnectionEvents events;
    private final long lingerNanos;
    /** Made on first use: most connections never wait, and an idle one should cost little memory. */
    private ArrayDeque<PendingWrite> queue;
    private ChannelHandlerContext ctx;
    private boolean closing;
    /** The close's last stage, once a close was asked for. */
    private LingeringClose linger;
    private boolean lastWriteRequested;
    /** Written on the I/O loop, read by {@link ChannelConnection#isWritable()} from any thread. */
    private volatile int queued;

    OutboundQueueHandler(ConnectionEvents events, long lingerNanos) {
        this.events = events;
        this.lingerNanos = lingerNanos;
    }

    boolean hasQueuedWrites() {
        return queued != 0;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg == CLOSE_AFTER_WRITES) {
            closeAfterWrites(promise);
            return;
        }
        enqueue(msg, promise, false);
    }

    /** Puts a write ahead of everything still queued here. On the I/O loop. */
    void writeUrgent(Object msg, ChannelPromise promise) {
        enqueue(msg, promise, true);
        ctx.flush();
    }

    private void enqueue(Object msg, ChannelPromise promise, boolean urgent) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        if (isQueueEmpty() && ctx.channel().isWritable()) {
            passDown(msg, promise);
            return;
        }
        if (queue == null) {
            queue = new ArrayDeque<>();
        }
        PendingWrite w = new PendingWrite(msg, promise);
        if (urgent) {
            queue.addFirst(w);
        } else {
            queue.addLast(w);
        }
        queued = queue.size();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !isQueueEmpty()) {
            drain(false);
            ctx.flush();
            if (isQueueEmpty() && closing) {
                afterLastWrite();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Closes once everything queued, here and in the transport, has been written; from now on the peer's
     * input is discarded and later writes fail. On the I/O loop.
     */
    void closeAfterWrites(ChannelPromise promise) {
        if (!promise.isVoid()) {
            ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
        }
        if (closing) {
            return;
        }
        closing = true;
        if (!ctx.channel().isActive()) {
            ctx.close();
            return;
        }
        linger = stopInput();
        // Output that never drains must not hold the close forever: the write-stall timeout watches it.
        events.closeRequested();
        if (isQueueEmpty()) {
            afterLastWrite();
        } else {
            // The rest goes when the transport drains; channelWritabilityChanged comes back here.
            ctx.flush();
        }
    }

    /** Stops the peer's input from reaching the codecs and the protocol (the connection is closing). */
    LingeringClose stopInput() {
        return LingeringClose.install(ctx.pipeline(), ConnectionPipeline.ACTIVITY, lingerNanos);
    }

    private void afterLastWrite() {
        if (lastWriteRequested) {
            return;
        }
        lastWriteRequested = true;
        ctx.flush();
        ChannelOutboundBuffer transport = ctx.channel().unsafe().outboundBuffer();
        if (ctx.pipeline().first() instanceof ActivityHandler && (transport == null || transport.isEmpty())) {
            // Nothing between this queue and the socket holds writes (no TLS, no chunked writer), and the
            // transport took everything: the output is done now.
            linger.outputDone();
            return;
        }
        // Writes complete in order: when this empty one is done, everything before it is too.
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> linger.outputDone());
    }

    /** Hands every queued write to the transport regardless of writability (for hijack). On the I/O loop. */
    void flushAll() {
        drain(true);
        ctx.flush();
    }

    /** Drops every queued write. On the I/O loop. */
    void discard(Throwable cause) {
        if (queue == null) {
            return;
        }
        PendingWrite w;
        while ((w = queue.pollFirst()) != null) {
            ReferenceCountUtil.release(w.msg);
            w.promise.tryFailure(cause);
        }
        queued = 0;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discard(new ClosedChannelException());
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // On hijack the queue was flushed already; on close it is failed here.
        discard(new ClosedChannelException());
    }

    private boolean isQueueEmpty() {
        return queue == null || queue.isEmpty();
    }

    private void drain(boolean ignoreWritability) {
        if (queue == null) {
            return;
        }
        PendingWrite w;
        while ((ignoreWritability || ctx.channel().isWritable()) && (w = queue.pollFirst()) != null) {
            passDown(w.msg, w.promise);
        }
        queued = queue.size();
    }

    private void passDown(Object msg, ChannelPromise promise) {
        if (msg instanceof ChunkedInput<?>) {
            ConnectionPipeline.ensureChunkedWriter(ctx.pipeline());
        }
        events.bytesWritten(sizeOf(msg));
        ctx.write(msg, promise);
    }

    private static long sizeOf(Object msg) {
        if (msg instanceof ByteBuf buf) {
            return buf.readableBytes();
        }
        if (msg instanceof ByteBufHolder holder) {
            return holder.content().readableBytes();
        }
        if (msg instanceof FileRegion region) {
            return region.count() - region.transferred();
        }
        if (msg instanceof ChunkedInput<?> chunked) {
            return Math.max(0, chunked.length() - chunked.progress());
        }
        return 0;
    }

    private record PendingWrite(Object msg, ChannelPromise promise) {
    }
}
