package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import dev.serverframework.http.Response;
import io.netty.buffer.ByteBufUtil;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Broadcasts with {@code server.each(null, service, c -> WebSocket.of(c).send(prepared), null)}: a prepared
 * message reaches every socket of the service, byte for byte the frame it was encoded to (compressed
 * sockets included: it goes out uncompressed), and nothing else: not the sockets of another route's
 * service, not plain HTTP connections, for which {@code WebSocket.of} is null. Sends from many threads all
 * arrive, in each thread's order.
 */
class BroadcastTest extends WebSocketTestBase {

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/plain", req -> Response.text(WebSocket.of(req.connection()) == null ? "plain" : "a socket?"))
                .websocket("/room", WebSocketOptions.builder().service("room").compression(true).build(), recorder)
                .websocket("/lobby", WebSocketOptions.builder().service("lobby").build(), recorder)
                .build());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void preparedMessagesReachEverySocketOfTheServiceAndNoOther(Execution mode) throws Exception {
        start(mode);
        List<NettyWsClient> room = new ArrayList<>();
        room.add(track(NettyWsClient.connect(server, "/room")));
        room.add(track(NettyWsClient.connect(server, "/room", new NettyWsClient.Options().compression(true))));
        room.add(track(NettyWsClient.connect(server, "/room")));
        RawWs rawInRoom = track(RawWs.open(server, "/room"));
        NettyWsClient lobby = track(NettyWsClient.connect(server, "/lobby"));
        RawWs http = track(RawWs.connect(server, 0));
        http.send(HttpTestSupport.get("/plain").getBytes(StandardCharsets.US_ASCII));
        assertEquals("plain", http.readBody(http.readHead()), "WebSocket.of(an HTTP connection) is null");
        for (int i = 0; i < 5; i++) {
            recorder.awaitOpen();
        }

        byte[] big = new byte[70_000];
        Arrays.fill(big, (byte) 3);
        List<PreparedMessage> messages = List.of(PreparedMessage.text("hello, room ü"), PreparedMessage.binary(new byte[200]),
                PreparedMessage.binary(big), PreparedMessage.text(""));
        for (PreparedMessage m : messages) {
            CompletableFuture<Void> finished = new CompletableFuture<>();
            int targeted = server.each(null, "room", c -> WebSocket.of(c).send(m), () -> finished.complete(null));
            assertEquals(4, targeted, "the room's sockets");
            finished.get(10, TimeUnit.SECONDS);
            byte[] wire = ByteBufUtil.getBytes(m.frame());
            assertEquals(wire.length, m.frameLength());
            // The raw client reads the exact frame bytes the message was prepared as.
            assertArrayEquals(wire, rawInRoom.readExactly(wire.length), "the prepared frame, byte for byte");
            for (NettyWsClient c : room) {
                NettyWsClient.Received r = c.nextData();
                assertEquals(wire[0] & 0x0F, r.opcode());
                assertEquals(0, r.wireRsv(), "a prepared message goes out uncompressed");
                assertArrayEquals(Arrays.copyOfRange(wire, wire.length - r.payload().length, wire.length), r.payload());
                assertEquals(wire.length - headerLength(r.payload().length), r.payload().length);
            }
        }
        // The lobby and the HTTP connection got nothing: the next thing each gets is its own answer.
        assertEquals("lobby only", lobby.echo("lobby only"));
        http.send(HttpTestSupport.get("/plain").getBytes(StandardCharsets.US_ASCII));
        assertEquals("plain", http.readBody(http.readHead()));
        for (NettyWsClient c : room) {
            c.assertNoErrors();
        }
    }

    private static int headerLength(int payload) {
        return payload < 126 ? 2 : payload < 65536 ? 4 : 10;
    }

    /** Over every service: HTTP connections are reached too, and WebSocket.of tells them apart. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void eachOverAllServicesTellsSocketsFromHttpConnections(Execution mode) throws Exception {
        start(mode);
        NettyWsClient a = track(NettyWsClient.connect(server, "/room"));
        NettyWsClient b = track(NettyWsClient.connect(server, "/lobby"));
        recorder.awaitOpen();
        recorder.awaitOpen();
        RawWs http = track(RawWs.connect(server, 0));
        http.send(HttpTestSupport.get("/plain").getBytes(StandardCharsets.US_ASCII));
        http.readBody(http.readHead());
        AtomicInteger sockets = new AtomicInteger();
        AtomicInteger others = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        PreparedMessage m = PreparedMessage.text("everyone");
        int targeted = server.each(null, null, c -> {
            WebSocket ws = WebSocket.of(c);
            if (ws == null) {
                others.incrementAndGet();
            } else if (ws.send(m)) {
                sockets.incrementAndGet();
            }
        }, done::countDown);
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(3, targeted);
        assertEquals(2, sockets.get());
        assertEquals(1, others.get(), "the HTTP connection");
        assertEquals("everyone", a.nextText());
        assertEquals("everyone", b.nextText());
    }

    /**
     * The idiom {@code c -> WebSocket.of(c).send(m)} must hold for a socket that has just switched from HTTP:
     * the framework counts the connection under the route's service before the socket's onOpen runs on its
     * worker, so a broadcast can reach it in between; {@code WebSocket.of} used to be null there (an NPE in
     * the task, and the framework cut the new connection). Made deterministic by holding the worker from
     * {@code accept}: the switch happens on the I/O loop, onOpen waits. Worker mode only: on the I/O loop the
     * switch and onOpen run in one go.
     */
    @org.junit.jupiter.api.Test
    void socketJustSwitchedIsASocketBeforeItsOnOpen() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<dev.serverframework.core.Connection> accepted = new CompletableFuture<>();
        server = HttpTestSupport.start(HttpProtocol.builder().execution(Execution.WORKER)
                .websocket("/held", WebSocketOptions.builder().service("held").build(), new Recorder() {
                    @Override
                    public boolean accept(dev.serverframework.http.Request handshake) {
                        dev.serverframework.core.Connection c = handshake.connection();
                        // Queued on this worker now, so ahead of the onOpen the switch will queue.
                        c.executor().execute(() -> {
                            try {
                                hold.await(10, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        });
                        accepted.complete(c);
                        return true;
                    }
                })
                .build());
        RawWs ws = track(RawWs.connect(server, 0));
        try {
            ws.send(RawWs.handshake("/held"));
            dev.serverframework.core.Connection c = accepted.get(10, TimeUnit.SECONDS);
            dev.serverframework.core.testing.Await.until("the switch to the route's service", () -> server.count("held") == 1);
            WebSocket socket = WebSocket.of(c);
            assertTrue(socket != null, "a connection counted under the route's service is a socket");
            assertTrue(socket.send("before onOpen"));
            ws.expectSwitch();
            assertEquals("before onOpen", ws.readText(), "sent behind the 101, as a frame");
        } finally {
            hold.countDown();
        }
    }

    /** Sends from several threads at once: all arrive, each thread's in its order. */
    @ParameterizedTest
    @EnumSource(Execution.class)
    void sendsFromManyThreadsAllArriveInEachThreadsOrder(Execution mode) throws Exception {
        start(mode);
        NettyWsClient client = track(NettyWsClient.connect(server, "/lobby"));
        WebSocket socket = recorder.awaitOpen();
        int threads = 4;
        int each = 250;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                senders.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        assertTrue(id % 2 == 0 ? socket.send(id + ":" + i)
                                : socket.send(PreparedMessage.text(id + ":" + i)), "send refused");
                    }
                }));
            }
            for (Future<?> s : senders) {
                s.get(10, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdown();
        }
        int[] next = new int[threads];
        for (int n = 0; n < threads * each; n++) {
            String[] parts = client.nextText().split(":");
            int id = Integer.parseInt(parts[0]);
            assertEquals(next[id]++, Integer.parseInt(parts[1]), "thread " + id + "'s order");
        }
        client.assertNoErrors();
    }
}
