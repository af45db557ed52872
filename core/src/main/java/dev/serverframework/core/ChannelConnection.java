package dev.serverframework.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.stream.ChunkedNioFile;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The framework's {@link Connection}: a Netty channel, the worker it is pinned to, its protocol and the
 * framework handlers at both ends of its pipeline.
 */
final class ChannelConnection implements Connection {
    private static final Logger log = LoggerFactory.getLogger(ChannelConnection.class);

    private final Server server;
    private final Channel channel;
    private final long id;
    private final Worker worker;
    private final ActivityHandler activity;
    private final OutboundQueueHandler outbound;
    private volatile Protocol<?> protocol;
    private volatile ServiceStatistics service;
    private volatile boolean busy;
    /** Names of the current protocol's codec handlers; I/O loop only. */
    private List<String> codecNames = List.of();
    /** A write made on the I/O loop during a read batch, to flush at its end; I/O loop only. */
    private boolean flushPending;
    /** Inside a read batch on the I/O loop; I/O loop only. */
    private boolean inReadBatch;
    private volatile boolean hijacked;
    /** The server's stop has reached this connection; I/O loop only. */
    private boolean draining;
    /** A failure the peer caused has been counted for this connection; I/O loop only. */
    private boolean peerFailureCounted;
    /** 1 once the connection gave back its place under the connection limit (a field, not an object: idle connections are many). */
    private volatile int slotReleased;
    private static final java.lang.invoke.VarHandle SLOT_RELEASED;

    static {
        try {
            SLOT_RELEASED = java.lang.invoke.MethodHandles.lookup()
                    .findVarHandle(ChannelConnection.class, "slotReleased", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /**
     * Done once the close has been handed to the protocol ({@code onClose} queued on the executor) or the
     * connection was hijacked. The channel's close future is not enough for a graceful stop: it completes
     * before Netty fires channelInactive, so a stop that shut the workers then would drop onClose.
     */
    private final Promise<Void> closeDispatched = io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newPromise();

    ChannelConnection(Server server, Channel channel, long id, Worker worker, Protocol<?> protocol,
                      long idleTimeoutNanos) {
        this.server = server;
        this.channel = channel;
        this.id = id;
        this.worker = worker;
        this.protocol = protocol;
        ServerSettings settings = server.settings();
        this.activity = new ActivityHandler(this, idleTimeoutNanos, settings.writeStallTimeout().toNanos());
        this.outbound = new OutboundQueueHandler(this, settings.lingerTimeout().toNanos());
    }

    /** Builds the pipeline: TLS, then the framework's socket-end handlers, codecs, dispatcher. I/O loop. */
    void initPipeline() {
        codecNames = ConnectionPipeline.build(channel.pipeline(), server.settings().sslContext(), activity, outbound,
                protocol, new ProtocolDispatcher(this));
        service = server.statistics().service(protocol.service());
    }

    // ---- events from the pipeline (I/O loop) ----

    void opened() {
        service.opened();
        server.registry().add(this);
        Protocol<?> p = protocol;
        run(() -> p.onOpen(this));
        if (server.isStopping()) {
            // Accepted as the stop began, perhaps after it looked for open connections.
            drain(server.settings().drainWindow().toNanos());
        }
    }

    void received(Object msg) {
        @SuppressWarnings("unchecked") // the protocol's codecs emit its message type; a mismatch fails the callback
        Protocol<Object> p = (Protocol<Object>) protocol;
        if (p.execution() == Protocol.Execution.IO_LOOP) {
            inReadBatch = true;
            invoke(() -> p.onData(this, msg), msg);
        } else {
            worker.execute(() -> invoke(() -> p.onData(this, msg), msg));
        }
    }

    /** A codec refused input over its limit; what it decoded before has been passed on already. */
    void inputTooLong(TooLongFrameException cause) {
        if (LingeringClose.isInstalled(channel.pipeline())) {
            return; // already closing: the discarded input is not the protocol's business
        }
        Protocol<?> p = protocol;
        run(() -> p.onInputTooLong(this, cause));
    }

    void readBatchComplete() {
        inReadBatch = false;
        if (flushPending) {
            flushPending = false;
            channel.flush();
        }
    }

    void writableAgain() {
        Protocol<?> p = protocol;
        run(() -> p.onReady(this));
    }

    void idleTimedOut() {
        Protocol<?> p = protocol;
        run(() -> {
            if (!p.isAnswering(this)) {
                server.statistics().onIdleTimeout();
                p.ping(this);
            }
        });
    }

    /** The peer took none of the pending output for the write-stall timeout: nothing more can be delivered. */
    void writeStalled(long stalledMillis) {
        peerEvent(PeerEventLog.Kind.WRITE_STALL, "no output taken for " + stalledMillis + " ms");
        abort();
    }

    /** The peer shut down its output; everything it sent before has been decoded and passed on. */
    void inputClosed() {
        Protocol<?> p = protocol;
        run(() -> p.onInputClosed(this));
    }

    /** A close was asked for and waits for pending output. */
    void closeRequested() {
        activity.watchOutput();
    }

    /**
     * The server is stopping: the protocol hears of it, and the connection closes once it is quiet, at
     * once if it already is, or else at the end of the drain window, when what it sent until then has
     * been answered. Idempotent. On the I/O loop.
     */
    void drain(long windowNanos) {
        if (draining || !channel.isActive() || hijacked) {
            return;
        }
        draining = true;
        Protocol<?> p = protocol;
        run(() -> p.onShutdown(this));
        if (activity.quietFor(windowNanos)) {
            closeWhenAnswered();
        } else {
            channel.eventLoop().schedule(this::closeWhenAnswered, windowNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Stops passing the peer's input on, then, on the executor after every message already passed on, closes
     * unless the protocol still owes an answer (it then closes after it). On the I/O loop.
     */
    private void closeWhenAnswered() {
        if (!channel.isActive() || hijacked) {
            return;
        }
        outbound.stopInput();
        run(() -> {
            if (!protocol.isAnswering(this)) {
                close();
            }
        });
    }

    void closed() {
        if (hijacked) {
            return;
        }
        if (server.registry().remove(this)) {
            service.closed();
            server.statistics().onClosed();
        }
        Protocol<?> p = protocol;
        try {
            run(() -> p.onClose(this));
        } finally {
            closeDispatched.trySuccess(null);
        }
    }

    /** An exception reached the end of the pipeline: the peer's doing (logged quietly) or a bug (logged loudly). */
    void pipelineFailed(Throwable cause) {
        PeerEventLog.Kind kind = PeerEventLog.Kind.of(cause);
        if (kind == null) {
            log.warn("Connection {} ({}): pipeline error; closing it", id, service(), cause);
        } else if (!peerFailureCounted) {
            peerFailureCounted = true;
            peerEvent(kind, String.valueOf(cause.getMessage()));
        }
        // else an echo of the end already counted: a connection cut by a reset then reaches a codec that was in
        // the middle of a message (Netty's aggregator reports it as closed mid-message). One end, one count.
        abort();
    }

    /** Counts what the peer did and logs it quietly. */
    private void peerEvent(PeerEventLog.Kind kind, String detail) {
        switch (kind) {
            case RESET -> server.statistics().onReset();
            case CLOSED_MID_MESSAGE -> server.statistics().onClosedMidMessage();
            case PROTOCOL_ERROR -> service.protocolError();
            case WRITE_STALL -> server.statistics().onWriteStall();
        }
        PeerEventLog.event(kind, id, service(), detail);
    }

    void read(long bytes) {
        service.read(bytes);
    }

    void wrote(long bytes) {
        service.written(bytes);
    }

    // ---- running callbacks and tasks on the connection's executor ----

    /** Runs a callback on this connection's executor, inline when already there. */
    void run(Runnable callback) {
        EventExecutor ex = executor();
        if (ex.inEventLoop()) {
            invoke(callback, null);
        } else {
            try {
                ex.execute(() -> invoke(callback, null));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                log.debug("Connection {}: callback dropped, executor has terminated", id);
            }
        }
    }

    /** Runs a user task for this connection, or {@code fallback} when it has closed, on its executor. */
    void runTask(Consumer<Connection> task, Runnable fallback) {
        Runnable body = () -> {
            if (isOpen()) {
                task.accept(this);
            } else if (fallback != null) {
                fallback.run();
            }
        };
        run(body);
    }

    /** Runs on the connection's executor: marks it busy, contains a failure, releases the message. */
    private void invoke(Runnable callback, Object msg) {
        busy = true;
        try {
            callback.run();
        } catch (Throwable t) {
            callbackFailed(t);
        } finally {
            busy = false;
            if (msg != null) {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    private void callbackFailed(Throwable t) {
        server.statistics().onCallbackFailure();
        log.warn("Connection {} ({}): a protocol callback threw; closing the connection", id, service(), t);
        abort();
    }

    // ---- Connection ----

    @Override
    public long id() {
        return id;
    }

    @Override
    public String service() {
        return protocol.service();
    }

    @Override
    public Protocol<?> protocol() {
        return protocol;
    }

    @Override
    public void switchProtocol(Protocol<?> next) {
        Objects.requireNonNull(next, "protocol");
        channel.eventLoop().execute(() -> {
            if (!channel.isActive() || hijacked) {
                return;
            }
            ChannelPipeline p = channel.pipeline();
            ConnectionPipeline.Switched switched;
            try {
                switched = ConnectionPipeline.replaceCodecs(p, codecNames, next, new ProtocolDispatcher(this));
            } catch (RuntimeException e) {
                log.warn("Connection {}: {}.initPipeline threw while switching to it; closing the connection",
                        id, next.getClass().getName(), e);
                abort();
                return;
            }
            codecNames = switched.codecNames();
            ServiceStatistics nextService = server.statistics().service(next.service());
            server.registry().changeService(this, protocol.service(), next.service());
            service.closed();
            nextService.opened();
            service = nextService;
            protocol = next;
            // onOpen is queued before the buffered bytes below, so the new protocol sees it first.
            run(() -> next.onOpen(this));
            ConnectionPipeline.replay(p, switched.leftovers());
        });
    }

    @Override
    public EventExecutor executor() {
        return protocol.execution() == Protocol.Execution.IO_LOOP ? channel.eventLoop() : worker;
    }

    @Override
    public EventExecutor ioLoop() {
        return channel.eventLoop();
    }

    /** Completes once {@code onClose} is queued on the executor (or the connection was hijacked). */
    Future<Void> closeDispatchedFuture() {
        return closeDispatched;
    }

    /** Gives back this connection's place under the connection limit, once. Any thread. */
    void releaseSlot() {
        if (SLOT_RELEASED.compareAndSet(this, 0, 1)) {
            server.registry().releaseSlot();
        }
    }

    /** Whether writes wait in the framework's own queue for a peer that reads slowly. */
    boolean hasQueuedWrites() {
        return outbound.hasQueuedWrites();
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
        if (inReadBatch && channel.eventLoop().inEventLoop()) {
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
            return sendFile(file, 0, java.nio.file.Files.size(file));
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
        ChannelPromise promise = channel.newPromise();
        if (hijacked) {
            return channel.close(promise);
        }
        // The marker travels the whole pipeline like a write, so it queues behind writes a codec still
        // holds (a chunked stream, say); the outbound queue closes once it and all before it are out.
        channel.writeAndFlush(OutboundQueueHandler.CLOSE_AFTER_WRITES, promise);
        return promise;
    }

    @Override
    public ChannelFuture abort() {
        return channel.close();
    }

    @Override
    public Future<Channel> hijack() {
        Promise<Channel> promise = channel.eventLoop().newPromise();
        channel.eventLoop().execute(() -> {
            if (hijacked || !channel.isActive()) {
                promise.tryFailure(new IllegalStateException("connection " + id + " is closed or already hijacked"));
                return;
            }
            outbound.flushAll();
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                if (!channel.isActive()) {
                    promise.tryFailure(new IllegalStateException("connection " + id + " closed while hijacking"));
                    return;
                }
                hijacked = true;
                ConnectionPipeline.strip(channel.pipeline(), codecNames);
                // The hijacker gets Netty's default: the peer's end of input closes the channel.
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
                if (server.registry().remove(this)) {
                    // The server lets go of it: for its counters it has left like a closed one.
                    service.closed();
                    server.statistics().onClosed();
                }
                releaseSlot();
                closeDispatched.trySuccess(null);
                promise.trySuccess(channel);
            });
        });
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
    public boolean isOpen() {
        return channel.isActive() && !hijacked;
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
        return server;
    }

    @Override
    public void protocolError(String reason) {
        peerEvent(PeerEventLog.Kind.PROTOCOL_ERROR, reason);
    }

    @Override
    public String toString() {
        return "Connection[" + id + ", " + service() + ", " + channel.remoteAddress() + "]";
    }

}
