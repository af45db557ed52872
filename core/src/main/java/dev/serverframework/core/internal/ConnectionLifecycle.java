package dev.serverframework.core.internal;

import dev.serverframework.core.Protocol;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A connection's life as the framework sees it: turns what the pipeline reports (opened, a message, the
 * peer's end of input, idle, stalled, closed, failed) into the protocol's callbacks; drains it when the
 * server stops; switches its protocol; hands it over on a hijack; and keeps the server's books on it
 * (registry, service counters, its place under the connection limit). One per connection; the pipeline
 * events arrive on the I/O loop.
 */
final class ConnectionLifecycle implements ConnectionEvents {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLifecycle.class);
    private static final VarHandle SLOT_RELEASED;
    private static final VarHandle WAITER;

    static {
        try {
            SLOT_RELEASED = MethodHandles.lookup().findVarHandle(ConnectionLifecycle.class, "slotReleased", int.class);
            WAITER = MethodHandles.lookup().findVarHandle(ConnectionLifecycle.class, "closeDispatchedWaiter", Promise.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ServerRuntime server;
    private final Channel channel;
    private final ChannelConnection connection;
    private final CallbackRunner runner;
    /** Set once by {@link #handlers}, before the connection is published to the I/O loop. */
    private ActivityHandler activity;
    private OutboundQueueHandler outbound;
    private volatile Protocol<?> protocol;
    private volatile ServiceCounters service;
    private volatile boolean hijacked;
    /** Names of the current protocol's codec handlers; I/O loop only. */
    private List<String> codecNames = List.of();
    /** The server's stop has reached this connection; I/O loop only. */
    private boolean draining;
    /** A failure the peer caused has been counted for this connection; I/O loop only. */
    private boolean peerFailureCounted;
    /** A codec's input-too-long has been counted and handed to the protocol; I/O loop only. */
    private boolean tooLongReported;
    /** The peer shut down its output; I/O loop only. A protocol switched to later must hear of it too. */
    private boolean inputEnded;
    /** 1 once the connection gave back its place under the connection limit (a field, not an object: idle connections are many). */
    @SuppressWarnings("unused")
    private volatile int slotReleased;
    /**
     * Done once the close has been handed to the protocol ({@code onClose} queued on the executor) or the
     * connection was hijacked. The channel's close future is not enough for a graceful stop: it completes
     * before Netty fires channelInactive, so a stop that shut the workers then would drop onClose.
     */
    private volatile boolean closeDispatched;
    /** Made only when a stop waits for this connection (idle connections are many); completed with the flag. */
    private volatile Promise<Void> closeDispatchedWaiter;

    ConnectionLifecycle(ServerRuntime server, Channel channel, ChannelConnection connection, Protocol<?> protocol) {
        this.server = server;
        this.channel = channel;
        this.connection = connection;
        this.runner = server.callbacks();
        this.protocol = protocol;
    }

    /**
     * The socket-end handlers this lifecycle drives (they report to it as {@link ConnectionEvents}); set once,
     * before the pipeline is built.
     */
    void handlers(ActivityHandler activity, OutboundQueueHandler outbound) {
        this.activity = activity;
        this.outbound = outbound;
    }

    Protocol<?> protocol() {
        return protocol;
    }

    boolean isHijacked() {
        return hijacked;
    }

    /** Builds the pipeline: TLS, the framework's socket-end handlers, the codecs, the dispatcher. I/O loop. */
    void initPipeline() {
        codecNames = ConnectionPipeline.build(channel.pipeline(), server.settings().sslContext(), activity, outbound,
                protocol, new ProtocolDispatcher(this));
        service = server.counters().service(protocol.service());
    }

    // ---- from the dispatcher (I/O loop) ----

    void opened() {
        service.opened();
        server.registry().add(connection);
        Protocol<?> p = protocol;
        runner.run(connection, () -> p.onOpen(connection));
        if (server.isStopping()) {
            // Accepted as the stop began, perhaps after it looked for open connections.
            drain(server.settings().drainWindow().toNanos());
        }
    }

    void received(Object msg) {
        @SuppressWarnings("unchecked") // the protocol's codecs emit its message type; a mismatch fails the callback
        Protocol<Object> p = (Protocol<Object>) protocol;
        // Taken here, on the I/O loop, so that a protocol timing its requests counts their wait for the worker.
        long receivedNanos = System.nanoTime();
        if (p.execution() == Protocol.Execution.IO_LOOP) {
            connection.holdFlushes();
            connection.receivedAt(receivedNanos);
            runner.invoke(connection, () -> p.onData(connection, msg), msg);
        } else {
            // Straight to the worker: the execution mode was just read, executor() would read it again.
            connection.worker().execute(() -> {
                connection.receivedAt(receivedNanos);
                runner.invoke(connection, () -> p.onData(connection, msg), msg);
            });
        }
    }

    void readBatchEnded() {
        connection.releaseFlushes();
    }

    /** Writable again after the outbound buffer rose over its high water mark: the protocol may resume. */
    void writabilityChanged() {
        if (connection.isWritable()) {
            Protocol<?> p = protocol;
            runner.run(connection, () -> p.onReady(connection));
        }
    }

    /** The peer shut down its output; everything it sent before has been decoded and passed on. */
    void inputClosed() {
        inputEnded = true;
        Protocol<?> p = protocol;
        runner.run(connection, () -> p.onInputClosed(connection));
    }

    /**
     * A codec refused input over its limit; what it decoded before has been passed on already. Counted once,
     * and handed to the protocol once: the first tells it all it needs to answer and close.
     */
    void inputTooLong(TooLongFrameException cause) {
        if (tooLongReported || LingeringClose.isInstalled(channel.pipeline())) {
            return; // already told, or already closing: the discarded input is not the protocol's business
        }
        tooLongReported = true;
        peerEvent(PeerEventLog.Kind.PROTOCOL_ERROR, String.valueOf(cause.getMessage()));
        Protocol<?> p = protocol;
        runner.run(connection, () -> p.onInputTooLong(connection, cause));
    }

    void closed() {
        if (hijacked) {
            return;
        }
        leaveServer();
        Protocol<?> p = protocol;
        try {
            runner.run(connection, () -> p.onClose(connection));
        } finally {
            markCloseDispatched();
        }
    }

    /** An exception reached the end of the pipeline: the peer's doing (logged quietly) or a bug (logged loudly). */
    void pipelineFailed(Throwable cause) {
        PeerEventLog.Kind kind = PeerEventLog.Kind.of(cause);
        if (kind == null) {
            log.warn("Connection {} ({}): pipeline error; closing it", connection.id(), connection.service(), cause);
        } else if (!peerFailureCounted) {
            peerFailureCounted = true;
            peerEvent(kind, String.valueOf(cause.getMessage()));
        }
        // else an echo of the end already counted: a connection cut by a reset then reaches a codec that was in
        // the middle of a message (HTTP's decoder reports it as closed mid-message). One end, one count.
        connection.abort();
    }

    // ---- from the socket-end handlers (I/O loop) ----

    @Override
    public void bytesRead(long bytes) {
        service.read(bytes);
    }

    @Override
    public void bytesWritten(long bytes) {
        service.written(bytes);
    }

    @Override
    public void idleTimedOut() {
        Protocol<?> p = protocol;
        runner.run(connection, () -> {
            if (!p.isAnswering(connection)) {
                server.counters().onIdleTimeout();
                p.ping(connection);
            }
        });
    }

    @Override
    public void writeStalled(long stalledMillis) {
        peerEvent(PeerEventLog.Kind.WRITE_STALL, "no output taken for " + stalledMillis + " ms");
        connection.abort();
    }

    @Override
    public void closeRequested() {
        activity.watchOutput();
    }

    /** Counts what the peer did and logs it quietly. Any thread. */
    void peerEvent(PeerEventLog.Kind kind, String detail) {
        switch (kind) {
            case RESET -> server.counters().onReset();
            case CLOSED_MID_MESSAGE -> server.counters().onClosedMidMessage();
            case PROTOCOL_ERROR -> service.protocolError();
            case WRITE_STALL -> server.counters().onWriteStall();
        }
        PeerEventLog.event(kind, connection.id(), connection.service(), detail);
    }

    // ---- the server stopping ----

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
        runner.run(connection, () -> p.onShutdown(connection));
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
        runner.run(connection, () -> {
            if (!protocol.isAnswering(connection)) {
                connection.close();
            }
        });
    }

    /** Completes once {@code onClose} is queued on the executor (or the connection was hijacked). */
    Future<Void> closeDispatchedFuture() {
        Promise<Void> waiter = closeDispatchedWaiter;
        if (waiter == null) {
            WAITER.compareAndSet(this, null, ImmediateEventExecutor.INSTANCE.<Void>newPromise());
            waiter = closeDispatchedWaiter;
        }
        // Set before the waiter was read by markCloseDispatched, or the waiter seen there: either way done.
        if (closeDispatched) {
            waiter.trySuccess(null);
        }
        return waiter;
    }

    private void markCloseDispatched() {
        closeDispatched = true;
        Promise<Void> waiter = closeDispatchedWaiter;
        if (waiter != null) {
            waiter.trySuccess(null);
        }
    }

    // ---- switch and hijack (I/O loop) ----

    /**
     * Puts the next protocol's codecs in place of the current one's, hands them what the old ones had
     * buffered, and moves the connection to the next protocol's service; its {@code onOpen} runs before its
     * first {@code onData}. Messages the old codecs had decoded already still reach the old protocol. If the
     * peer had ended its input already, the next protocol's {@code onInputClosed} follows what was buffered.
     */
    void switchTo(Protocol<?> next) {
        if (!channel.isActive() || hijacked) {
            return;
        }
        ChannelPipeline p = channel.pipeline();
        ConnectionPipeline.Switched switched;
        try {
            switched = ConnectionPipeline.replaceCodecs(p, codecNames, next, new ProtocolDispatcher(this));
        } catch (RuntimeException e) {
            log.warn("Connection {}: {}.initPipeline threw while switching to it; closing the connection",
                    connection.id(), next.getClass().getName(), e);
            connection.abort();
            return;
        }
        codecNames = switched.codecNames();
        ServiceCounters nextService = server.counters().service(next.service());
        server.registry().changeService(connection, protocol.service(), next.service());
        service.closed();
        nextService.opened();
        service = nextService;
        protocol = next;
        // onOpen is queued before the buffered bytes below, so the new protocol sees it first.
        runner.run(connection, () -> next.onOpen(connection));
        // Read before the replay: an end of input an old codec held is replayed through the new codecs and
        // reaches the next protocol that way, so it must not be told a second time below.
        boolean endedBefore = inputEnded;
        ConnectionPipeline.replay(p, switched.leftovers());
        if (endedBefore) {
            // The end of input went to the old protocol, which may have left it to this one: a stream
            // switched to must still learn that its peer has gone, after everything the peer sent.
            runner.run(connection, () -> next.onInputClosed(connection));
        }
    }

    /**
     * Once the writes queued so far are out, takes the framework out of the pipeline and lets go of the
     * channel; completes {@code promise} with it. A failed promise says why not.
     */
    void hijack(Promise<Channel> promise) {
        if (hijacked || !channel.isActive()) {
            promise.tryFailure(new IllegalStateException("connection " + connection.id() + " is closed or already hijacked"));
            return;
        }
        outbound.flushAll();
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (!channel.isActive()) {
                promise.tryFailure(new IllegalStateException("connection " + connection.id() + " closed while hijacking"));
                return;
            }
            hijacked = true;
            ConnectionPipeline.strip(channel.pipeline(), codecNames);
            // The hijacker gets Netty's default: the peer's end of input closes the channel.
            channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
            // The server lets go of it: for its counters it has left like a closed one.
            leaveServer();
            releaseSlot();
            markCloseDispatched();
            promise.trySuccess(channel);
        });
    }

    private void leaveServer() {
        if (server.registry().remove(connection)) {
            service.closed();
            server.counters().onClosed();
        }
    }

    /** Gives back this connection's place under the connection limit, once. Any thread. */
    void releaseSlot() {
        if (SLOT_RELEASED.compareAndSet(this, 0, 1)) {
            server.registry().releaseSlot();
        }
    }
}
