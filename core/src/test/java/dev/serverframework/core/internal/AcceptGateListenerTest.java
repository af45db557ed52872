package dev.serverframework.core.internal;

import dev.serverframework.core.Transport;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The accept gate on a real listening socket of the transport this run of the suite uses (epoll, NIO or
 * io_uring, whose accepts are multishot): while it is paused, clients wait in the kernel's backlog and no
 * channel is accepted; once it opens, each waiting client is accepted.
 */
class AcceptGateListenerTest {
    private final List<RawClient> clients = new ArrayList<>();
    private EventLoopGroup group;

    @AfterEach
    void close() throws InterruptedException {
        clients.forEach(RawClient::close);
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Counts the channels the listener accepted. */
    @ChannelHandler.Sharable
    private static final class Accepted extends ChannelInboundHandlerAdapter {
        final AtomicInteger count = new AtomicInteger();
        volatile CountDownLatch next = new CountDownLatch(1);

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            count.incrementAndGet();
            next.countDown();
        }
    }

    @Test
    void aPausedListenerLeavesClientsInTheBacklogAndTakesThemWhenItOpens() throws Exception {
        Transport transport = TransportSupport.resolve(Transport.AUTO);
        group = new MultiThreadIoEventLoopGroup(1, TransportSupport.ioHandlerFactory(transport));
        Accepted accepted = new Accepted();
        Channel listener = new ServerBootstrap().group(group)
                .channel(TransportSupport.serverChannelClass(transport))
                .childHandler(accepted)
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        int port = ((InetSocketAddress) listener.localAddress()).getPort();
        AcceptGate gate = new AcceptGate(List.of(listener), 4);

        clients.add(new RawClient(port));
        Await.until("the first client to be accepted", () -> accepted.count.get() == 1);

        for (int i = 0; i < 4; i++) {
            gate.refusalStarted();
        }
        Await.until("accepting to pause on " + transport, () -> !listener.eventLoop()
                .submit(() -> listener.config().isAutoRead()).syncUninterruptibly().getNow());
        accepted.next = new CountDownLatch(1);
        for (int i = 0; i < 3; i++) {
            clients.add(new RawClient(port));
        }
        assertFalse(accepted.next.await(300, TimeUnit.MILLISECONDS),
                "a client was accepted while accepting was paused on " + transport);
        assertEquals(1, accepted.count.get());

        gate.refusalEnded();
        gate.refusalEnded();
        Await.until("the three waiting clients to be accepted on " + transport, () -> accepted.count.get() == 4);
        listener.close().sync();
    }
}
