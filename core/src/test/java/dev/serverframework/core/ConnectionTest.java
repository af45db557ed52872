package dev.serverframework.core;

import io.netty.util.AttributeKey;
import dev.serverframework.core.ConnectionTestSupport.Probe;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.FixedLengthFrameDecoder;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static dev.serverframework.core.ConnectionTestSupport.randomBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The {@link Connection} API and the protocol callbacks, against real sockets. */
class ConnectionTest {
    private final List<Server> servers = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws InterruptedException {
        for (Server s : servers) {
            s.stop();
        }
        for (Server s : servers) {
            s.awaitTermination();
        }
    }

    private Server start(ServerBuilder builder) {
        Server s = builder.build();
        servers.add(s);
        return s.start();
    }

    // ---- identity and attributes ----

    /** Ids are unique and increase with every connection; a closed connection's id never names another. */
    @Test
    void idsAreUniqueIncreasingAndNeverReused() throws Exception {
        Probe p = new Probe("ids", (c, line) -> { });
        Server server = start(local(p));

        RawClient a = new RawClient(server.port());
        Connection ca = p.nextOpened();
        a.close();
        assertSame(ca, p.nextClosed());

        List<RawClient> clients = new ArrayList<>();
        Set<Long> ids = new HashSet<>();
        long previous = ca.id();
        for (int i = 0; i < 20; i++) {
            clients.add(new RawClient(server.port()));
            Connection c = p.nextOpened();
            assertTrue(c.id() > previous, "id " + c.id() + " after " + previous);
            previous = c.id();
            assertTrue(ids.add(c.id()));
        }
        assertFalse(ids.contains(ca.id()), "a closed connection's id was given again");

        // A task for the closed id must not reach any of the new connections: its fallback runs.
        CompletableFuture<String> outcome = new CompletableFuture<>();
        server.task(ca.id(), c -> outcome.complete("reached connection " + c.id()), () -> outcome.complete("fallback"));
        assertEquals("fallback", outcome.get(10, TimeUnit.SECONDS));
        clients.forEach(RawClient::close);
    }

    /** service(), protocol(), server(), the addresses (as the client sees them), isSecure() and isOpen(). */
    @Test
    void attributesMatchTheClientSocket() throws Exception {
        Probe p = new Probe("attrs", (c, line) -> { });
        Server server = start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            assertEquals("attrs", c.service());
            assertSame(p, c.protocol());
            assertSame(server, c.server());
            assertFalse(c.isSecure());
            assertTrue(c.isOpen());

            InetSocketAddress remote = (InetSocketAddress) c.remoteAddress();
            Socket s = client.socket();
            assertEquals(s.getLocalAddress(), remote.getAddress());
            assertEquals(s.getLocalPort(), remote.getPort());
            InetSocketAddress local = (InetSocketAddress) c.localAddress();
            assertEquals(s.getInetAddress(), local.getAddress());
            assertEquals(s.getPort(), local.getPort());
            assertEquals(server.port(), local.getPort());

            client.close();
            assertSame(c, p.nextClosed());
            assertFalse(c.isOpen());
        }
    }

    /** Each connection has its own attributes, null until set, replaced by set(). */
    @Test
    void attributesArePerConnection() throws Exception {
        AttributeKey<String> name = AttributeKey.valueOf(ConnectionTest.class, "name");
        Probe p = new Probe("attach", (c, line) -> {
            if (line.startsWith("set ")) {
                c.attr(name).set(line.substring(4));
                c.write("ok\n");
            } else {
                c.write(c.attr(name).get() + "\n");
            }
        });
        Server server = start(local(p));
        try (RawClient a = new RawClient(server.port()); RawClient b = new RawClient(server.port())) {
            assertEquals("null", a.send("get\n").readLine());
            assertEquals("ok", a.send("set alpha\n").readLine());
            assertEquals("ok", b.send("set beta\n").readLine());
            assertEquals("alpha", a.send("get\n").readLine());
            assertEquals("beta", b.send("get\n").readLine());
            assertEquals("ok", a.send("set gamma\n").readLine());
            assertEquals("gamma", a.send("get\n").readLine());
            assertEquals("beta", b.send("get\n").readLine());
        }
    }

    /** isBusy() is true while a callback or task of the connection runs, false once it has returned. */
    @Test
    void isBusyOnlyInsideCallbacksAndTasks() throws Exception {
        Probe p = new Probe("busy", (c, line) -> c.write("busy=" + c.isBusy() + "\n"));
        Server server = start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            assertEquals("busy=true", client.send("?\n").readLine());
            Await.until("the callback to return", () -> !c.isBusy());

            CompletableFuture<Boolean> inTask = new CompletableFuture<>();
            server.task(c.id(), conn -> inTask.complete(conn.isBusy()), null);
            assertTrue(inTask.get(10, TimeUnit.SECONDS));
            Await.until("the task to return", () -> !c.isBusy());
        }
    }

    // ---- writes ----

    /** write(byte[]), write(CharSequence) (UTF-8) and write(ByteBuf) arrive byte-exact and in order. */
    @Test
    void writesOfEveryKindArriveExactAndInOrder() throws Exception {
        byte[] bin = new byte[1024];
        for (int i = 0; i < bin.length; i++) {
            bin[i] = (byte) i;
        }
        String text = "héllo wörld ✓ 日本語 🚀\n";
        byte[] bufBytes = randomBytes(100_000, 1);
        Probe p = new Probe("writes", (c, line) -> {
            c.write(bin);
            c.write(text);
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bufBytes.length);
            b.writeBytes(bufBytes);
            c.write(b);
            c.write(new StringBuilder("builder\n"));
        });
        Server server = start(local(p));
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(bin);
        expected.write(text.getBytes(StandardCharsets.UTF_8));
        expected.write(bufBytes);
        expected.write("builder\n".getBytes(StandardCharsets.UTF_8));
        byte[] want = expected.toByteArray();
        try (RawClient client = new RawClient(server.port())) {
            client.send("go\n");
            assertArrayEquals(want, client.readExactly(want.length));
            client.send("go\n");
            assertArrayEquals(want, client.readExactly(want.length), "second round");
        }
    }

    /**
     * Writes from a callback and from tasks ({@link Server#task}) on the same connection keep the order in
     * which they were made: a task submitted by a callback runs after it, tasks run in submission order.
     */
    @Test
    void writesFromTasksAndCallbacksInterleaveInOrder() throws Exception {
        Probe p = new Probe("order", (c, line) -> {
            int i = Integer.parseInt(line);
            c.write("cb " + i + " a\n");
            c.server().task(c.id(), t -> t.write("task " + i + "\n"), null);
            c.write("cb " + i + " b\n");
        });
        Server server = start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            for (int i = 0; i < 50; i++) {
                client.send(i + "\n");
                assertEquals("cb " + i + " a", client.readLine());
                assertEquals("cb " + i + " b", client.readLine());
                assertEquals("task " + i, client.readLine());
                int n = i;
                server.task(c.id(), t -> t.write("outside " + n + "\n"), null);
                assertEquals("outside " + i, client.readLine());
            }
            // Tasks from one thread, pipelined, go out in submission order.
            for (int i = 0; i < 1000; i++) {
                int n = i;
                server.task(c.id(), t -> t.write(n + "\n"), null);
            }
            for (int i = 0; i < 1000; i++) {
                assertEquals(String.valueOf(i), client.readLine());
            }
        }
    }

    // ---- writeUrgent ----

    private static final int PACKET = 4096;

    /** A framed packet: "<K000123>" header, a fill byte that depends on the packet, "</K000123>\n" trailer. */
    private static byte[] packet(char kind, int seq) {
        byte[] p = new byte[PACKET];
        byte[] head = String.format("<%c%06d>", kind, seq).getBytes(StandardCharsets.US_ASCII);
        byte[] tail = String.format("</%c%06d>\n", kind, seq).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, p, 0, head.length);
        Arrays.fill(p, head.length, PACKET - tail.length, kind == 'U' ? (byte) '!' : (byte) ('a' + seq % 26));
        System.arraycopy(tail, 0, p, PACKET - tail.length, tail.length);
        return p;
    }

    /**
     * writeUrgent overtakes writes still queued in the framework but never lands inside a packet: with a
     * client that does not read, framed 4 KiB packets fill the socket buffers and the queue; the urgent
     * packet then arrives intact, before some of the packets written before it, and every packet is whole.
     */
    @Test
    void writeUrgentOvertakesQueuedWritesButNeverSplitsOne() throws Exception {
        // 6 MiB: more than the kernel can buffer (tcp_wmem max 4 MiB here, the client's receive buffer is
        // small), so packets are left waiting in the framework's queue whatever the socket buffers take.
        int count = 1536;
        CountDownLatch written = new CountDownLatch(1);
        Probe p = new Probe("urgent", (c, line) -> {
            for (int i = 0; i < count; i++) {
                c.write(packet('N', i));
            }
            written.countDown();
        });
        Server server = start(local(p).writeBufferWaterMarks(1024, 4096).idleTimeout(Duration.ofSeconds(60)));
        try (Socket client = ConnectionTestSupport.smallBufferClient(server.port(), 8192)) {
            Connection c = p.nextOpened();
            client.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(written.await(10, TimeUnit.SECONDS));
            // Every write has reached the I/O loop once a task queued after them has run there.
            c.ioLoop().submit(() -> { }).get(10, TimeUnit.SECONDS);
            Await.until("writes to wait in the framework's queue", () -> !c.isWritable());

            ChannelFuture urgent = c.writeUrgent(Unpooled.wrappedBuffer(packet('U', 0)));

            InputStream in = client.getInputStream();
            List<String> order = new ArrayList<>();
            for (int k = 0; k < count + 1; k++) {
                byte[] chunk = ConnectionTestSupport.readExactly(in, PACKET);
                String head = new String(chunk, 0, 9, StandardCharsets.US_ASCII);
                if (!head.matches("<[NU]\\d{6}>")) {
                    fail("packet " + k + " does not start with a header (a packet was split): " + head);
                }
                char kind = head.charAt(1);
                int seq = Integer.parseInt(head.substring(2, 8));
                assertArrayEquals(packet(kind, seq), chunk, "packet " + k + " (" + head + ") is not intact");
                order.add(kind + "" + seq);
            }
            assertTrue(urgent.await(10, TimeUnit.SECONDS) && urgent.isSuccess());

            int urgentAt = order.indexOf("U0");
            assertTrue(urgentAt >= 0, "the urgent packet never arrived");
            List<String> normals = new ArrayList<>(order);
            normals.remove(urgentAt);
            for (int i = 0; i < count; i++) {
                assertEquals("N" + i, normals.get(i), "normal packets out of order");
            }
            assertTrue(urgentAt < count, "the urgent packet came after every normal one: " + urgentAt);
        }
    }

    // ---- sendFile ----

    /** sendFile(Path) and sendFile(path, offset, length) send the file's exact bytes on a plain connection. */
    @Test
    void sendFileSendsExactBytes() throws Exception {
        byte[] content = randomBytes(3 * 1024 * 1024 + 17, 42);
        Path file = dir.resolve("data.bin");
        Files.write(file, content);
        int offset = 12_345;
        int length = 1_000_000;
        List<ChannelFuture> futures = new CopyOnWriteArrayList<>();
        Probe p = new Probe("files", (c, line) -> {
            switch (line) {
                case "whole" -> futures.add(c.sendFile(file));
                case "range" -> futures.add(c.sendFile(file, offset, length));
                case "missing" -> {
                    try {
                        c.sendFile(dir.resolve("no-such-file"));
                        c.write("sent?\n");
                    } catch (UncheckedIOException e) {
                        c.write("missing\n");
                    }
                }
                default -> c.write("unknown\n");
            }
        });
        Server server = start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            client.send("whole\nrange\nwhole\n");
            assertArrayEquals(content, client.readExactly(content.length), "whole file");
            assertArrayEquals(Arrays.copyOfRange(content, offset, offset + length), client.readExactly(length),
                    "range of the file");
            assertArrayEquals(content, client.readExactly(content.length), "whole file again");
            assertEquals("missing", client.send("missing\n").readLine());
            for (ChannelFuture f : futures) {
                assertTrue(f.await(10, TimeUnit.SECONDS) && f.isSuccess(), String.valueOf(f.cause()));
            }
            assertEquals(3, futures.size());
        }
    }

    // ---- close, abort, writes after close ----

    private static final int BIG = 8 * 1024 * 1024;
    private static final int CHUNK = 64 * 1024;

    /**
     * close() closes only after everything queued before it has gone out: 8 MiB queued to a client that
     * is not reading, then close(); the client reads every byte, then EOF. A write made after close()
     * fails and never reaches the client.
     */
    @Test
    void closeSendsEverythingQueuedFirst() throws Exception {
        byte[] data = randomBytes(BIG, 3);
        AtomicReference<ChannelFuture> closeFuture = new AtomicReference<>();
        AtomicReference<ChannelFuture> late = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Probe p = new Probe("close", (c, line) -> {
            for (int off = 0; off < BIG; off += CHUNK) {
                c.write(Unpooled.wrappedBuffer(data, off, CHUNK));
            }
            closeFuture.set(c.close());
            late.set(c.write("late\n"));
            done.countDown();
        });
        Server server = start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            client.send("big\n");
            assertTrue(done.await(10, TimeUnit.SECONDS));
            Await.until("the write after close() to fail", () -> late.get().isDone());
            assertFalse(late.get().isSuccess(), "a write after close() succeeded");
            Await.until("data to be queued behind the slow reader", () -> !c.isWritable());
            assertTrue(c.isOpen(), "closed with writes still queued");

            byte[] received = ConnectionTestSupport.readToEnd(client.socket().getInputStream());
            assertEquals(data.length, received.length, "bytes before EOF");
            assertArrayEquals(data, received);
            assertTrue(closeFuture.get().await(10, TimeUnit.SECONDS) && closeFuture.get().isSuccess());
            assertSame(c, p.nextClosed());
            assertFalse(c.isOpen());

            ChannelFuture after = c.write("after\n");
            assertTrue(after.await(10, TimeUnit.SECONDS));
            assertFalse(after.isSuccess(), "a write on a closed connection succeeded");
            ChannelFuture urgentAfter = c.writeUrgent(Unpooled.copiedBuffer("urgent\n", StandardCharsets.US_ASCII));
            assertTrue(urgentAfter.await(10, TimeUnit.SECONDS));
            assertFalse(urgentAfter.isSuccess(), "an urgent write on a closed connection succeeded");
        }
    }

    /** abort() closes at once: queued writes are dropped (their futures fail), the client gets only a prefix. */
    @Test
    void abortClosesAtOnceDroppingQueuedWrites() throws Exception {
        byte[] data = randomBytes(BIG, 4);
        AtomicReference<ChannelFuture> last = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Probe p = new Probe("abort", (c, line) -> {
            ChannelFuture f = null;
            for (int off = 0; off < BIG; off += CHUNK) {
                f = c.write(Unpooled.wrappedBuffer(data, off, CHUNK));
            }
            last.set(f);
            done.countDown();
        });
        Server server = start(local(p));
        try (RawClient client = new RawClient(server.port())) {
            Connection c = p.nextOpened();
            client.send("big\n");
            assertTrue(done.await(10, TimeUnit.SECONDS));
            Await.until("data to be queued behind the slow reader", () -> !c.isWritable());

            ChannelFuture aborted = c.abort();
            assertTrue(aborted.await(10, TimeUnit.SECONDS));
            assertFalse(c.isOpen());
            assertTrue(last.get().await(10, TimeUnit.SECONDS));
            assertFalse(last.get().isSuccess(), "a queued write went out after abort()");

            byte[] received = ConnectionTestSupport.readToEnd(client.socket().getInputStream());
            assertTrue(received.length < data.length, "everything arrived despite abort()");
            assertTrue(Arrays.equals(received, 0, received.length, data, 0, received.length),
                    "what arrived is not a prefix of what was written");
            assertSame(c, p.nextClosed());
        }
    }

    // ---- hijack ----

    /**
     * hijack() flushes the queued writes, then hands over the raw channel: the framework's handlers and
     * the codecs are gone, the protocol gets no more onData/onClose, count() drops it, and a handler the
     * test adds to the raw channel talks to the client directly.
     */
    @Test
    void hijackHandsOverTheRawChannelAfterQueuedWrites() throws Exception {
        byte[] bulk = randomBytes(1024 * 1024, 5);
        CompletableFuture<Channel> hijacked = new CompletableFuture<>();
        List<String> lines = new CopyOnWriteArrayList<>();
        Probe p = new Probe("hj", (c, line) -> {
            lines.add(line);
            if (line.equals("hijack")) {
                for (int off = 0; off < bulk.length; off += CHUNK) {
                    c.write(Unpooled.wrappedBuffer(bulk, off, CHUNK));
                }
                c.write("before-hijack\n");
                Future<Channel> f = c.hijack();
                f.addListener(x -> {
                    if (f.isSuccess()) {
                        hijacked.complete(f.getNow());
                    } else {
                        hijacked.completeExceptionally(f.cause());
                    }
                });
            }
        });
        Server server = start(local(p));
        try (RawClient other = new RawClient(server.port()); RawClient client = new RawClient(server.port())) {
            p.nextOpened();
            p.nextOpened();
            assertEquals(2, server.count("hj"));
            Connection c = findConnection(server, client);

            client.send("hijack\n");
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            expected.write(bulk);
            expected.write("before-hijack\n".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals(expected.toByteArray(), client.readExactly(expected.size()));

            Channel ch = hijacked.get(10, TimeUnit.SECONDS);
            assertTrue(ch.isActive());
            assertFalse(c.isOpen(), "a hijacked connection is no longer the framework's");
            assertEquals(1, server.count("hj"));
            assertEquals(1, server.count(null));
            ChannelPipeline pipe = ch.pipeline();
            for (String name : List.of("sf-activity", "sf-outbound", "sf-dispatch", "line", "string")) {
                assertNull(pipe.get(name), name + " still in the hijacked pipeline");
            }

            // Added on the channel's loop, as a hijacker would in the future's listener: added from another
            // thread, the handler is skipped until the loop has run its handlerAdded, and bytes read in
            // between would pass it by.
            ch.eventLoop().submit(() -> pipe.addLast("echo", new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.writeAndFlush(msg);
                }
            })).get(10, TimeUnit.SECONDS);
            client.send("raw line\nno newline");
            assertEquals("raw line\nno newline", client.readText("raw line\nno newline".length()));
            assertEquals(List.of("hijack"), lines, "the protocol got data after hijack");

            client.close();
            assertTrue(ch.closeFuture().await(10, TimeUnit.SECONDS));
            // Whatever the close set in motion has run once a task queued after it has run.
            ch.eventLoop().submit(() -> { }).get(10, TimeUnit.SECONDS);
            c.executor().submit(() -> { }).get(10, TimeUnit.SECONDS);
            assertNull(p.closed.poll(), "the protocol got onClose for a hijacked connection");
            assertEquals(1, server.count("hj"));
            assertTrue(findConnection(server, other).isOpen());
        }
    }

    /** The server-side connection whose remote port is the client's local port. */
    private static Connection findConnection(Server server, RawClient client) {
        AtomicReference<Connection> found = new AtomicReference<>();
        server.eachBlocking(null, null, c -> {
            if (((InetSocketAddress) c.remoteAddress()).getPort() == client.socket().getLocalPort()) {
                found.set(c);
            }
        });
        assertNotNull(found.get(), "no connection for the client");
        return found.get();
    }

    // ---- switchProtocol ----

    /**
     * switchProtocol: the new protocol's codec replaces the old one and receives the bytes the old codec
     * had buffered, its onOpen runs first, service() changes and count(service) follows.
     */
    @Test
    void switchProtocolReplacesTheCodecAndKeepsBufferedBytes() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        Protocol<ByteBuf> fixed = new Protocol<>() {
            @Override
            public String service() {
                return "fixed";
            }

            @Override
            public void initPipeline(ChannelPipeline pipeline) {
                pipeline.addLast("fixed4", new FixedLengthFrameDecoder(4));
            }

            @Override
            public void onOpen(Connection connection) {
                events.add("open " + connection.service());
                connection.write("new-open\n");
            }

            @Override
            public void onData(Connection connection, ByteBuf message) {
                String s = message.toString(StandardCharsets.US_ASCII);
                events.add("data " + s);
                connection.write("got:" + s + "\n");
            }

            @Override
            public void onClose(Connection connection) {
                events.add("close");
            }
        };
        Probe lines = new Probe("lines", (c, line) -> {
            if (line.equals("switch")) {
                c.switchProtocol(fixed);
            } else {
                c.write("old:" + line + "\n");
            }
        });
        Server server = start(local(lines));
        try (RawClient bystander = new RawClient(server.port()); RawClient client = new RawClient(server.port())) {
            lines.nextOpened();
            lines.nextOpened();
            Connection c = findConnection(server, client);
            assertEquals("old:hello", client.send("hello\n").readLine());
            assertEquals(2, server.count("lines"));

            // "ABCDEFG" has no newline: the line codec holds it when the switch happens.
            client.send("switch\nABCDEFG");
            assertEquals("new-open", client.readLine());
            assertEquals("got:ABCD", client.readLine());
            assertEquals("got:EFGH", client.send("H").readLine());
            assertEquals("got:IJKL", client.send("IJKL").readLine());
            assertEquals(List.of("open fixed", "data ABCD", "data EFGH", "data IJKL"), events);

            assertEquals("fixed", c.service());
            assertSame(fixed, c.protocol());
            assertEquals(1, server.count("lines"));
            assertEquals(1, server.count("fixed"));
            assertEquals(2, server.count(null));
            assertEquals("old:still", bystander.send("still\n").readLine());

            client.close();
            Await.until("onClose of the new protocol", () -> events.contains("close"));
            assertEquals(0, server.count("fixed"));
            assertEquals(1, server.count("lines"));
            assertNull(lines.closed.poll(), "the old protocol got onClose of a switched connection");
        }
    }

    /**
     * A peer that ends its input right behind the line that switches: whether the end reaches the old
     * protocol (which leaves it, as HTTP leaves a switched connection) or the new one, the new protocol hears
     * of it once, after its onOpen.
     */
    @Test
    void aProtocolSwitchedToAfterTheEndOfInputStillHearsOfIt() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        Protocol<ByteBuf> tail = new Protocol<>() {
            @Override
            public String service() {
                return "tail";
            }

            @Override
            public void initPipeline(ChannelPipeline pipeline) {
                pipeline.addLast("fixed4", new FixedLengthFrameDecoder(4));
            }

            @Override
            public void onOpen(Connection connection) {
                events.add("open");
            }

            @Override
            public void onData(Connection connection, ByteBuf message) {
                events.add("data " + message.toString(StandardCharsets.US_ASCII));
            }

            @Override
            public void onInputClosed(Connection connection) {
                events.add("input closed");
                connection.write("bye\n");
                connection.close();
            }
        };
        Probe lines = new Probe("lines", (c, line) -> c.switchProtocol(tail)) {
            @Override
            public void onInputClosed(Connection connection) {
                // Left to the protocol the connection is switching to.
            }
        };
        Server server = start(local(lines));
        for (int i = 0; i < 20; i++) {
            events.clear();
            try (RawClient client = new RawClient(server.port())) {
                client.send("switch\n");
                client.socket().shutdownOutput();
                assertEquals("bye", client.readLine(), "attempt " + i);
                assertNull(client.readLine(), "attempt " + i);
            }
            assertEquals(List.of("open", "input closed"), events, "attempt " + i);
        }
    }

    // ---- execution modes ----

    /** Execution.IO_LOOP callbacks run on the I/O loop ("sf-io..."); the default WORKER on "sf-worker-". */
    @Test
    void callbacksRunWhereTheProtocolSays() throws Exception {
        Map<String, String> openThread = new ConcurrentHashMap<>();
        LineProtocol onLoop = new LineProtocol("loop", (c, line) ->
                c.write(Thread.currentThread().getName() + " " + c.executor().inEventLoop() + " "
                        + (c.executor() == c.ioLoop()) + "\n")) {
            @Override
            public Execution execution() {
                return Execution.IO_LOOP;
            }

            @Override
            public void onOpen(Connection connection) {
                openThread.put("loop", Thread.currentThread().getName());
            }
        };
        LineProtocol onWorker = new LineProtocol("worker", (c, line) ->
                c.write(Thread.currentThread().getName() + " " + c.executor().inEventLoop() + " "
                        + (c.executor() == c.ioLoop()) + "\n")) {
            @Override
            public void onOpen(Connection connection) {
                openThread.put("worker", Thread.currentThread().getName());
            }
        };
        Server loopServer = start(local(onLoop));
        Server workerServer = start(local(onWorker));
        try (RawClient a = new RawClient(loopServer.port()); RawClient b = new RawClient(workerServer.port())) {
            String[] loop = a.send("x\n").readLine().split(" ");
            assertTrue(loop[0].startsWith("sf-io"), loop[0]);
            assertEquals("true", loop[1]);
            assertEquals("true", loop[2]);
            String[] worker = b.send("x\n").readLine().split(" ");
            assertTrue(worker[0].startsWith("sf-worker-"), worker[0]);
            assertEquals("true", worker[1]);
            assertEquals("false", worker[2]);
            Await.until("both onOpen callbacks", () -> openThread.size() == 2);
            assertTrue(openThread.get("loop").startsWith("sf-io"), openThread.toString());
            assertTrue(openThread.get("worker").startsWith("sf-worker-"), openThread.toString());
        }
    }

    /**
     * A callback that throws is counted in callbackFailures, its connection is closed, and other
     * connections, old and new, keep working.
     */
    @Test
    void aThrowingCallbackClosesOnlyItsConnection() throws Exception {
        AtomicBoolean boomed = new AtomicBoolean();
        Probe p = new Probe("boom", (c, line) -> {
            if (line.equals("boom")) {
                boomed.set(true);
                throw new IllegalStateException("test: a protocol bug");
            }
            c.write("echo:" + line + "\n");
        });
        Server server = start(local(p));
        try (RawClient victim = new RawClient(server.port()); RawClient bystander = new RawClient(server.port())) {
            assertEquals("echo:a", victim.send("a\n").readLine());
            assertEquals("echo:b", bystander.send("b\n").readLine());
            long before = server.statistics().callbackFailures();

            victim.send("boom\n");
            assertTrue(victim.isClosedByServer(), "the failing connection was not closed");
            assertTrue(boomed.get());
            Await.until("the failure to be counted", () -> server.statistics().callbackFailures() == before + 1);

            assertEquals("echo:still", bystander.send("still\n").readLine());
            try (RawClient newcomer = new RawClient(server.port())) {
                assertEquals("echo:new", newcomer.send("new\n").readLine());
            }
            Await.until("the failed connection to leave the count", () -> server.count("boom") == 1);
        }
    }
}
