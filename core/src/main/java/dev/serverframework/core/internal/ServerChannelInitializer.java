package dev.serverframework.core.internal;

import dev.serverframework.core.BusyAnswer;
import dev.serverframework.core.ServerSettings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Admits or refuses each accepted channel and builds the pipeline of an admitted one. Shared by all
 * channels of a server; runs on each channel's I/O loop.
 */
@ChannelHandler.Sharable
final class ServerChannelInitializer extends ChannelInitializer<Channel> {
    /** Process-wide, so an id is never reused even across servers. */
    private static final AtomicLong NEXT_ID = new AtomicLong();

    private final ServerRuntime server;
    /** What refused clients are told, from the protocol or the settings; null for nothing. */
    private final byte[] busyAnswer;
    /** The end of the request the busy answer waits for; null to answer at once. */
    private final byte[] busyRequestEnd;

    ServerChannelInitializer(ServerRuntime server) {
        this.server = server;
        ServerSettings s = server.settings();
        BusyAnswer fromProtocol = s.protocol().busyAnswer();
        this.busyAnswer = fromProtocol != null ? fromProtocol.answer() : s.busyMessage();
        this.busyRequestEnd = fromProtocol != null ? fromProtocol.requestEnd() : null;
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!server.isRunning() || !server.registry().tryReserveSlot()) {
            refuse(ch);
            return;
        }
        ServerSettings s = server.settings();
        ChannelConnection c = new ChannelConnection(server, ch, NEXT_ID.incrementAndGet(),
                server.workerGroup().next(), s.protocol(), s.idleTimeout().toNanos());
        ConnectionLifecycle life = c.lifecycle();
        ch.closeFuture().addListener(f -> life.releaseSlot());
        life.initPipeline();
        server.counters().onAccepted();
    }

    /**
     * Answers and closes a client the server has no room for. Each such client holds a file until it has
     * read its answer: at the gate's limit, accepting pauses until some are done, rather than closing
     * the next ones unanswered.
     */
    private void refuse(Channel ch) {
        server.counters().onRejected();
        AcceptGate gate = server.acceptGate();
        gate.refusalStarted();
        ch.closeFuture().addListener(f -> gate.refusalEnded());
        // Under TLS the answer would need a handshake first; and a stopping server says nothing: such a
        // client only gets the clean close.
        boolean answers = server.settings().sslContext() == null && server.isRunning();
        ch.pipeline().addLast(new RefusalHandler(answers ? busyAnswer : null, busyRequestEnd,
                server.settings().lingerTimeout().toNanos()));
    }
}
