package dev.serverframework.core;

import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.core.testing.WorkerGate;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Connection#receivedNanos()}: taken on the I/O loop when it hands a message over, so the message's wait
 * for a busy worker lies between it and {@code onData}.
 */
class ReceivedNanosTest {
    private Server server;
    private RawClient client;

    @AfterEach
    void stop() throws InterruptedException {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    @Test
    void aMessageWaitingForABusyWorkerWasReceivedBeforeTheWorkerWasFree() throws Exception {
        CountDownLatch handedOver = new CountDownLatch(1);
        long[] seen = new long[3]; // decoded on the I/O loop, receivedNanos in onData, onData's start
        CountDownLatch answered = new CountDownLatch(1);
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(1).ioThreads(1)
                .idleTimeout(Duration.ZERO)
                .protocol(new LineProtocol("timed", (c, line) -> {
                    seen[2] = System.nanoTime();
                    seen[1] = c.receivedNanos();
                    c.write("ok\n");
                    answered.countDown();
                }) {
                    @Override
                    public void initPipeline(ChannelPipeline pipeline) {
                        super.initPipeline(pipeline);
                        pipeline.addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                seen[0] = System.nanoTime();
                                ctx.fireChannelRead(msg);
                                // The framework has taken the message (and its time) by now.
                                handedOver.countDown();
                            }
                        });
                    }
                })
                .build().start();
        client = new RawClient(server.port());
        long freed;

        // The only worker is busy until the line has been handed over on the I/O loop.
        try (WorkerGate gate = WorkerGate.hold(server.workerGroup().next())) {
            client.send("hello\n");
            assertTrue(handedOver.await(10, TimeUnit.SECONDS), "the line never reached the pipeline");
            freed = System.nanoTime();
            gate.open();
        }

        assertEquals("ok", client.readLine());
        assertTrue(answered.await(10, TimeUnit.SECONDS));
        assertTrue(seen[0] <= seen[1], "received before it was decoded");
        assertTrue(seen[1] < freed, "receivedNanos was taken after the worker became free: it misses the wait");
        assertTrue(freed <= seen[2], "onData ran before the worker was free");
    }
}
