package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.core.Server;
import dev.serverframework.core.Worker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.stream.ChunkedNioFile;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Objects;

/**
 * The framework's {@link Connection}: what a protocol does to its connection (write, close, pause, switch,
 * hijack, per-connection attributes) carried out on the Netty channel. Its life (callbacks, stop, books)
 * is {@link ConnectionLifecycle}'s; its callbacks run through the server's {@link CallbackRunner}. Any thread.
 */
public final class ChannelConnection implements Connection {
    private final ServerRuntime server;
    private final Channel channel;
    private final long id;
    private final Worker worker;
    private final ConnectionLifecycle lifecycle;
    private final ActivityHandler activity;
    private final OutboundQueueHandler outbound;
    /** A callback or task of this connection is running. */
    private volatile boolean busy;
    /** Written and read on the connection's executor only (see {@link #receivedNanos()}). */
    private long receivedNanos;
    /** A write made on the I/O loop while flushes are held, to flush when they are released; I/O loop only. */
    private boolean flushPending;
    /** Flushes are held: a read batch, or a broadcast's batch, runs on the I/O loop; I/O loop only. */
    private boolean flushesHeld;

    ChannelConnection(ServerRuntime server, Channel channel, long id, Worker worker, Protocol<?> protocol,
                      long idleTimeoutNanos) {
        this.server = server;
        this.channel = channel;
        this.id = id;
        this.worker = worker;
        this.lifecycle = new ConnectionLifecycle(server, channel, this, protocol);
        this.outbound = new OutboundQueueHandler(lifecycle, server.settings().lingerTimeout().toNanos());
        this.activity = new ActivityHandler(lifecycle, outbound, idleTimeoutNanos,
                server.settings().writeStallTimeout().toNanos());
        lifecycle.handlers(activity, outbound);
    }

    ConnectionLifecycle lifecycle() {
        return lifecycle;
    }

    /** Runs a task of this connection here, on its executor, as {@code each} runs one (failures close it). */
    <A> void runTaskHere(java.util.function.BiConsumer<Connection, A> task, A argument) {
        server.callbacks().runTaskHere(this, task, argument);
    }

    /**
     * Callbacks or tasks of this connection run on the I/O loop in a batch (a read batch, a broadcast): their
     * writes wait for {@link #releaseFlushes()} and leave in one flush. I/O loop.
     */
    void holdFlushes() {
        flushesHeld = true;
    }

    /** The batch ended: flushes what its callbacks and tasks wrote. I/O loop. */
    void releaseFlushes() {
        flushesHeld = false;
        if (flushPending) {
            flushPending = false;
            channel.flush();
        }
    }

    /** When the I/O loop handed over the message about to reach {@code onData}. On the connection's executor. */
    void receivedAt(long nanos) {
        receivedNanos = nanos;
    }

    /** Marks a callback or task of this connection as running, or no longer. On its executor. */
    void busy(boolean running) {
        busy = running;
    }

    /** Asks the connection to drain for a server stop (see {@link ConnectionLifecycle#drain}). I/O loop. */
    public void drain(long windowNanos) {
        lifecycle.drain(windowNanos);
    }

    /** Completes once {@code onClose} is queued on the executor (or the connection was hijacked). */
    public Future<Void> closeDispatchedFuture() {
        return lifecycle.closeDispatchedFuture();
    }

    // ---- Connection ----

    @Override
    public long id() {
        return id;
    }

    @Override
    public String service() {
        return lifecycle.protocol().service();
    }

    @Override
    public Protocol<?> protocol() {
        return lifecycle.protocol();
    }

    @Override
    public void switchProtocol(Protocol<?> next) {
        Objects.requireNonNull(next, "protocol");
        channel.eventLoop().execute(() -> lifecycle.switchTo(next));
    }

    /** The worker this connection is pinned to (its executor unless its protocol runs on the I/O loop). */
    Worker worker() {
        return worker;
    }

    @Override
    public EventExecutor executor() {
        return lifecycle.protocol().execution() == Protocol.Execution.IO_LOOP ? channel.eventLoop() : worker;
    }

    @Override
    public EventExecutor ioLoop() {
        return channel.eventLoop();
    }

    @Override
    public ByteBufAllocator alloc() {
        return channel.alloc();
    }

    @Override
    public ChannelFuture write(byte[] bytes) {
        return write(Unpooled.wrappedBuffer(bytes));
    }

    @Override
    public ChannelFuture write(CharSequence text) {
        return write(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    @Override
    public ChannelFuture write(Object message) {
        Objects.requireNonNull(message, "message");
        // The loop test first: flushesHeld belongs to the loop, and other threads must not read it.
        if (channel.eventLoop().inEventLoop() && flushesHeld) {
            flushPending = true;
            return channel.write(message);
        }
        return channel.writeAndFlush(message);
    }

    @Override
    public ChannelFuture writeUrgent(ByteBuf message) {
        Objects.requireNonNull(message, "message");
        ChannelPromise promise = channel.newPromise();
        if (channel.eventLoop().inEventLoop()) {
            outbound.writeUrgent(message, promise);
        } else {
            channel.eventLoop().execute(() -> outbound.writeUrgent(message, promise));
        }
        return promise;
    }

    @Override
    public ChannelFuture sendFile(Path file) {
        try {
            return sendFile(file, 0, Files.size(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    @Override
    public ChannelFuture sendFile(Path file, long offset, long length) {
        FileChannel fc;
        try {
            fc = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file, e);
        }
        if (isSecure()) {
            try {
                return write(new ChunkedNioFile(fc, offset, length, 16 * 1024));
            } catch (IOException e) {
                closeQuietly(fc);
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return write(new DefaultFileRegion(fc, offset, length));
    }

    private static void closeQuietly(FileChannel fc) {
        try {
            fc.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    @Override
    public ChannelFuture close() {
        if (lifecycle.isHijacked()) {
            return channel.close();
        }
        // The marker travels the whole pipeline like a write, so it queues behind writes a codec still
        // holds (a chunked stream, say); the outbound queue closes once it and all before it are out.
        // What the caller gets is the channel's close future: no promise and listener per close.
        channel.writeAndFlush(OutboundQueueHandler.CLOSE_AFTER_WRITES, channel.voidPromise());
        return channel.closeFuture();
    }

    @Override
    public ChannelFuture abort() {
        return channel.close();
    }

    @Override
    public Future<Channel> hijack() {
        Promise<Channel> promise = channel.eventLoop().newPromise();
        channel.eventLoop().execute(() -> lifecycle.hijack(promise));
        return promise;
    }

    @Override
    public void touch() {
        activity.touch();
    }

    @Override
    public void idleTimeout(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("idleTimeout must be zero (off) or positive, got " + timeout);
        }
        activity.timeoutNanos(timeout.toNanos());
    }

    @Override
    public Duration idleTimeout() {
        return Duration.ofNanos(activity.timeoutNanos());
    }

    @Override
    public void pauseReading() {
        // On the I/O loop: called from another thread, epoll's setAutoRead(false) keeps EPOLLIN armed while
        // a read is pending (as it is between read batches), so one more batch would still arrive. Going
        // through the loop also keeps a pause and a resume in the order they were called.
        onIoLoop(() -> setAutoRead(false));
    }

    @Override
    public void resumeReading() {
        onIoLoop(() -> setAutoRead(true));
    }

    private void setAutoRead(boolean read) {
        // A closing connection reads on, whatever the protocol asks: unread input would turn its close into a reset.
        if (!LingeringClose.isInstalled(channel.pipeline())) {
            channel.config().setAutoRead(read);
        }
    }

    private void onIoLoop(Runnable action) {
        if (channel.eventLoop().inEventLoop()) {
            action.run();
        } else {
            channel.eventLoop().execute(action);
        }
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable() && !outbound.hasQueuedWrites();
    }

    @Override
    public boolean isBusy() {
        return busy;
    }

    @Override
    public long receivedNanos() {
        return receivedNanos;
    }

    @Override
    public boolean isOpen() {
        return channel.isActive() && !lifecycle.isHijacked();
    }

    /**
     * Runs {@code action} on the I/O loop once the channel has closed (at once if it has). Returns what takes
     * the action off again, for an owner that no longer needs it. Any thread.
     */
    public Runnable whenClosed(Runnable action) {
        ChannelFutureListener listener = f -> action.run();
        channel.closeFuture().addListener(listener);
        return () -> channel.closeFuture().removeListener(listener);
    }

    @Override
    public <T> Attribute<T> attr(AttributeKey<T> key) {
        return channel.attr(key);
    }

    @Override
    public SocketAddress remoteAddress() {
        return channel.remoteAddress();
    }

    @Override
    public SocketAddress localAddress() {
        return channel.localAddress();
    }

    @Override
    public boolean isSecure() {
        return channel.pipeline().get(SslHandler.class) != null;
    }

    @Override
    public Server server() {
        return server.server();
    }

    @Override
    public void protocolError(String reason) {
        lifecycle.peerEvent(PeerEventLog.Kind.PROTOCOL_ERROR, reason);
    }

    @Override
    public String toString() {
        return "Connection[" + id + ", " + service() + ", " + channel.remoteAddress() + "]";
    }
}
