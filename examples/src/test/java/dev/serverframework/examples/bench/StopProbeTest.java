package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link StopProbe} against small fake servers, each ending its connections in one known way at the stop, so
 * each ending must be classified as exactly that: Connection: close then FIN, RST with a request unread, FIN with
 * a request unanswered, half a response then FIN, RESP reply then FIN between replies; plus the deadline, a bad
 * response, a failed connect, and the command line with a real signal to a real process.
 */
class StopProbeTest {
    private static final int CONNECTIONS = 8;
    private static final Duration STOP_AFTER = Duration.ofMillis(500);
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final byte[] HELLO = ("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\n"
            + "Hello World!").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HELLO_CLOSE = ("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: Close\r\n\r\n"
            + "Hello World!").getBytes(StandardCharsets.US_ASCII);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private static StopProbe.Builder probe(FakeServer server) {
        return StopProbe.builder(server.address()).connections(CONNECTIONS).stopAfter(STOP_AFTER).deadline(DEADLINE);
    }

    /** Every connection had replies before the stop, so the loops really ran, and nothing is left unclassified. */
    private static void assertLoopsRan(StopResult r) {
        assertTrue(r.allConnected(), r::table);
        assertTrue(r.stopTriggered(), r::table);
        assertEquals(CONNECTIONS, r.ends().size(), r::table);
        assertEquals(0, r.connectionsWithoutReplyBeforeStop(), r::table);
        assertEquals(0, r.endedBeforeStop(), r::table);
        assertTrue(r.responsesBeforeStop() >= CONNECTIONS, r::table);
    }

    /** (1) The reply after the stop says Connection: close, then FIN: answered with close, for all. */
    @Test
    void closeResponseThenFinIsAnsweredClose() throws Exception {
        FakeServer server = start((s, in, out) -> {
            if (readRequest(in)) {
                out.write(HELLO_CLOSE);
                out.flush();
                s.shutdownOutput();
                drain(s, in);
            }
        });
        StopResult r = probe(server).expectBody("Hello World!").build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.ANSWERED_CLOSE), r::table);
        assertEquals(CONNECTIONS, r.closeResponsesAfterStop(), r::table);
        assertTrue(r.responsesAfterStop() >= CONNECTIONS, r::table);
        assertTrue(r.endMillisMax() >= r.endMillisPercentile(50) && r.endMillisPercentile(50) >= 0, r::table);
        for (StopResult.ConnectionEnd e : r.ends()) {
            assertFalse(e.requestOutstanding(), e::toString);
            assertEquals(1, e.closeResponsesAfterStop(), e::toString);
        }
    }

    /**
     * (2) At the stop the server closes with the next request unread: RST; reset, with the request outstanding.
     * SO_LINGER 0 because the JDK's {@code Socket.close()} shuts the output down first unless linger is 0, so a
     * plain close sends FIN then RST, and the client (rightly) sees the FIN, an EOF, first.
     */
    @Test
    void closeWithUnreadRequestIsReset() throws Exception {
        FakeServer server = start((s, in, out) -> {
            awaitPendingRequest(in);
            s.setSoLinger(true, 0);
            s.close(); // the request is unread in the receive buffer: RST, no FIN
        });
        StopResult r = probe(server).build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.RESET), r::table);
        assertEquals(CONNECTIONS, r.countOutstanding(StopOutcome.RESET), r::table);
        assertTrue(r.ends().get(0).detail().contains("waiting for the reply"), r::table);
    }

    /** (2b) A reset after a complete Connection: close reply: reset, with no request outstanding. */
    @Test
    void resetAfterCloseResponseIsResetWithNothingOutstanding() throws Exception {
        FakeServer server = start((s, in, out) -> {
            if (readRequest(in)) {
                out.write(HELLO_CLOSE);
                out.flush();
                s.setSoLinger(true, 0);
                s.close(); // SO_LINGER 0: RST instead of FIN
            }
        });
        StopResult r = probe(server).build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.RESET), r::table);
        assertEquals(0, r.countOutstanding(StopOutcome.RESET), r::table);
        assertEquals(CONNECTIONS, r.closeResponsesAfterStop(), r::table);
    }

    /** (3) At the stop the server sends FIN with the next request outstanding: closed unanswered. */
    @Test
    void finWithRequestOutstandingIsClosedUnanswered() throws Exception {
        FakeServer server = start((s, in, out) -> {
            awaitPendingRequest(in);
            s.shutdownOutput();
            drain(s, in);
        });
        StopResult r = probe(server).build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.CLOSED_UNANSWERED), r::table);
        assertEquals(CONNECTIONS, r.countOutstanding(StopOutcome.CLOSED_UNANSWERED), r::table);
    }

    /** (4) Half a response, then FIN: truncated. */
    @Test
    void halfResponseThenFinIsTruncated() throws Exception {
        FakeServer server = start((s, in, out) -> {
            if (readRequest(in)) {
                out.write(HELLO, 0, HELLO.length - 6);
                out.flush();
                s.shutdownOutput();
                drain(s, in);
            }
        });
        StopResult r = probe(server).build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.TRUNCATED), r::table);
        assertTrue(r.ends().get(0).detail().startsWith("EOF after " + (HELLO.length - 6) + " byte(s)"), r::table);
    }

    /**
     * (5) RESP: +PONG until the stop, then the last +PONG and FIN in one segment (TCP_CORK holds the reply until
     * shutdown adds the FIN to it), so the EOF is there before the client could send again: closed after an
     * answer. A plain socket cannot do this deterministically: its FIN may follow the reply by a few
     * microseconds, during which the closed-loop client legitimately sends its next PING (closed unanswered).
     */
    @Test
    void respReplyThenFinBetweenRepliesIsClosedAfterAnswer() throws Exception {
        assumeTrue(Epoll.isAvailable(), "needs the native epoll transport for TCP_CORK");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        toClose.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        AtomicBoolean stopped = new AtomicBoolean();
        Channel listener = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<EpollSocketChannel>() {
                    @Override
                    protected void initChannel(EpollSocketChannel ch) {
                        ch.pipeline().addLast(new PingServer(stopped));
                    }
                })
                .bind(InetAddress.getLoopbackAddress(), 0).syncUninterruptibly().channel();
        toClose.add(() -> listener.close().syncUninterruptibly());

        StopResult r = StopProbe.builder((InetSocketAddress) listener.localAddress())
                .protocol(StopProbe.Protocol.RESP).connections(CONNECTIONS).stopAfter(STOP_AFTER).deadline(DEADLINE)
                .build().run(() -> stopped.set(true));

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.CLOSED_AFTER_ANSWER), r::table);
        assertEquals(0, r.unexpectedReplies(), r::table);
        assertTrue(r.responsesAfterStop() >= CONNECTIONS, r::table);
    }

    /** The same RESP server with the FIN sent after the reply and the next PING: closed unanswered. */
    @Test
    void respFinAfterNextPingIsClosedUnanswered() throws Exception {
        FakeServer server = start((s, in, out) -> {
            awaitPendingRequest(in);
            s.shutdownOutput();
            drain(s, in);
        }, true);
        StopResult r = probe(server).protocol(StopProbe.Protocol.RESP).build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.CLOSED_UNANSWERED), r::table);
    }

    /** A server that stops answering and never closes: still open at the deadline, and the probe returns. */
    @Test
    void silentServerIsStillOpenAtTheDeadline() throws Exception {
        FakeServer server = start((s, in, out) -> drain(s, in));
        long t0 = System.nanoTime();
        StopResult r = probe(server).deadline(Duration.ofMillis(500)).build().run(server::stop);
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.STILL_OPEN), r::table);
        assertEquals(CONNECTIONS, r.countOutstanding(StopOutcome.STILL_OPEN), r::table);
        assertTrue(Double.isNaN(r.endMillisMax()), r::table);
        assertTrue(seconds < 5, "the probe took " + seconds + " s with a 0.5 s deadline");
    }

    /** A chunked reply after the stop: a bad response (the probe needs Content-Length framing). */
    @Test
    void chunkedReplyIsBadResponse() throws Exception {
        FakeServer server = start((s, in, out) -> {
            if (readRequest(in)) {
                out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n0\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                drain(s, in);
            }
        });
        StopResult r = probe(server).build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(CONNECTIONS, r.count(StopOutcome.BAD_RESPONSE), r::table);
        assertTrue(r.ends().get(0).detail().contains("Transfer-Encoding"), r::table);
    }

    /**
     * A server that closes each connection after 5 requests (as nginx does after keepalive_requests) ends them
     * all before the stop: classified, but counted and flagged as ended before the stop.
     */
    @Test
    void connectionsEndedBeforeTheStopAreFlagged() throws Exception {
        FakeServer server = start((s, in, out) -> drain(s, in));
        server.closeAfterRequests = 5;
        StopResult r = probe(server).build().run(server::stop);

        assertEquals(CONNECTIONS, r.count(StopOutcome.ANSWERED_CLOSE), r::table);
        assertEquals(CONNECTIONS, r.countBeforeStop(StopOutcome.ANSWERED_CLOSE), r::table);
        assertEquals(CONNECTIONS, r.endedBeforeStop(), r::table);
        assertEquals(5L * CONNECTIONS, r.responsesBeforeStop(), r::table);
        assertEquals(0, r.responsesAfterStop(), r::table);
        assertTrue(Double.isNaN(r.endMillisMax()), r::table);
        assertTrue(r.table().contains("WARNING: " + CONNECTIONS + " connection(s) ended before the stop"), r::table);
    }

    /** Nothing listens: the probe gives up before the stop, which is never run. */
    @Test
    void connectFailureFailsFastWithoutStopping() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        AtomicInteger stops = new AtomicInteger();
        StopResult r = StopProbe.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .connections(CONNECTIONS).stopAfter(STOP_AFTER).build().run(stops::incrementAndGet);

        assertFalse(r.allConnected());
        assertEquals(0, r.connected());
        assertNotNull(r.connectError());
        assertFalse(r.stopTriggered());
        assertEquals(0, stops.get());
        assertTrue(r.table().contains("nothing was stopped"), r::table);
    }

    /**
     * The command line with --signal-pid: SIGTERM goes to a real child process (which the fake server watches
     * to know it must stop), its exit is timed, and the JSON file has the counts.
     */
    @Test
    void commandLineSignalsPidAndWritesJson(@TempDir Path dir) throws Exception {
        Process child = new ProcessBuilder("sleep", "60").start();
        toClose.add(child::destroyForcibly);
        FakeServer server = start((s, in, out) -> {
            if (readRequest(in)) {
                out.write(HELLO_CLOSE);
                out.flush();
                s.shutdownOutput();
                drain(s, in);
            }
        });
        child.onExit().thenRun(server::stop);
        Path json = dir.resolve("stop.json");
        StringWriter printed = new StringWriter();
        CommandLine cli = new CommandLine(new BenchCommand()).setOut(new PrintWriter(printed));
        int status = cli.execute("stop", "--target", "127.0.0.1:" + server.address().getPort(),
                "--connections", Integer.toString(CONNECTIONS), "--stop-after", "300ms", "--deadline", "10s",
                "--signal-pid", Long.toString(child.pid()), "--expect-body", "Hello World!", "--json", json.toString());

        assertEquals(0, status, printed::toString);
        assertFalse(child.isAlive());
        assertTrue(printed.toString().contains("answered, Connection: close"), printed::toString);
        assertTrue(printed.toString().contains("the process exited"), printed::toString);
        JsonNode parsed = BenchJson.parse(Files.readString(json));
        assertEquals(CONNECTIONS, parsed.path("outcomes").path("ANSWERED_CLOSE").asInt(), printed::toString);
        assertEquals(CONNECTIONS, parsed.path("closeResponsesAfterStop").asInt(), parsed::toString);
        assertTrue(parsed.path("processExitMs").isNumber(), parsed::toString);
        assertEquals(CONNECTIONS, parsed.path("connectionEnds").size(), parsed::toString);
    }

    /** --stop-command runs through sh -c; a failing command is reported (exit status 4) with its output. */
    @Test
    void commandLineStopCommandAndItsFailure() throws Exception {
        Process child = new ProcessBuilder("sleep", "60").start();
        toClose.add(child::destroyForcibly);
        FakeServer server = start((s, in, out) -> {
            awaitPendingRequest(in);
            s.shutdownOutput();
            drain(s, in);
        });
        child.onExit().thenRun(server::stop);
        String target = "127.0.0.1:" + server.address().getPort();

        StringWriter printed = new StringWriter();
        int status = new CommandLine(new BenchCommand()).setOut(new PrintWriter(printed)).execute("stop",
                "--target", target, "-c", Integer.toString(CONNECTIONS), "--stop-after", "300ms",
                "--stop-command", "kill -TERM " + child.pid());
        assertEquals(0, status, printed::toString);
        assertTrue(Pattern.compile("closed unanswered +" + CONNECTIONS + " +100\\.0%").matcher(printed.toString())
                .find(), printed::toString);

        StringWriter failed = new StringWriter();
        status = new CommandLine(new BenchCommand()).setOut(new PrintWriter(failed)).execute("stop",
                "--target", target, "-c", "2", "--stop-after", "100ms", "--deadline", "300ms",
                "--stop-command", "echo no such server >&2; exit 3");
        assertEquals(4, status, failed::toString);
        assertTrue(failed.toString().contains("exited with status 3: no such server"), failed::toString);
    }

    /** --signal-pid and --stop-command together, or neither, is a usage error. */
    @Test
    void exactlyOneStopIsRequired() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new BenchCommand()).setErr(new PrintWriter(err));
        assertEquals(2, cli.execute("stop", "--target", "127.0.0.1:1", "--signal-pid", "1", "--stop-command", "true"));
        assertEquals(2, cli.execute("stop", "--target", "127.0.0.1:1"));
        assertTrue(err.toString().contains("--signal-pid"), err::toString);
    }

    /** Against the framework's own HTTP server: every connection ends and is classified, none left open. */
    @Test
    void frameworkHttpServerEndsEveryConnection() throws Exception {
        Server server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .protocol(HttpProtocol.builder().get("/", req -> Response.bytes("Hello World!"
                        .getBytes(StandardCharsets.US_ASCII), "text/plain")).build())
                .build().start();
        toClose.add(() -> {
            server.stop();
            server.awaitTermination(Duration.ofSeconds(10));
        });
        StopResult r = StopProbe.builder(new InetSocketAddress("127.0.0.1", server.port())).connections(CONNECTIONS)
                .stopAfter(STOP_AFTER).deadline(DEADLINE).expectBody("Hello World!").build().run(server::stop);

        assertLoopsRan(r);
        assertEquals(0, r.count(StopOutcome.STILL_OPEN) + r.count(StopOutcome.ERROR)
                + r.count(StopOutcome.BAD_RESPONSE), r::table);
        assertEquals(CONNECTIONS, r.ends().stream().filter(e -> !Double.isNaN(e.endMillis())).count(), r::table);
    }

    // ---- fake servers ----

    /** What a fake server does with a connection once it has seen the stop (then it closes the socket). */
    @FunctionalInterface
    interface AtStop {
        void run(Socket s, BufferedInputStream in, OutputStream out) throws IOException;
    }

    private FakeServer start(AtStop atStop) throws IOException {
        return start(atStop, false);
    }

    private FakeServer start(AtStop atStop, boolean resp) throws IOException {
        FakeServer s = new FakeServer(atStop, resp);
        toClose.add(s);
        return s;
    }

    /**
     * A keep-alive server on plain sockets, one thread per connection: answers every request ("Hello World!",
     * or +PONG) until {@link #stop()}, then, at the top of its next loop, hands the connection to its
     * {@link AtStop} (the closed-loop client always sends a next request, so that comes at once).
     */
    private static final class FakeServer implements AutoCloseable {
        private final ServerSocket listener;
        private final AtStop atStop;
        private final boolean resp;
        private final AtomicBoolean stopped = new AtomicBoolean();
        private final List<Socket> sockets = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        /** When more than 0: answer this many requests, the last with Connection: close, then FIN. */
        volatile int closeAfterRequests;

        FakeServer(AtStop atStop, boolean resp) throws IOException {
            this.listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
            this.atStop = atStop;
            this.resp = resp;
            Thread acceptor = new Thread(this::accept, "fake-server-accept");
            acceptor.setDaemon(true);
            acceptor.start();
            threads.add(acceptor);
        }

        InetSocketAddress address() {
            return (InetSocketAddress) listener.getLocalSocketAddress();
        }

        void stop() {
            stopped.set(true);
        }

        private void accept() {
            while (true) {
                Socket s;
                try {
                    s = listener.accept();
                } catch (IOException closed) {
                    return;
                }
                Thread t = new Thread(() -> serve(s), "fake-server-conn");
                t.setDaemon(true);
                synchronized (this) {
                    sockets.add(s);
                    threads.add(t);
                }
                t.start();
            }
        }

        private void serve(Socket s) {
            try (s) {
                s.setTcpNoDelay(true);
                BufferedInputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                for (int served = 1; true; served++) {
                    if (stopped.get()) {
                        atStop.run(s, in, out);
                        return;
                    }
                    if (resp ? !readPing(in) : !readRequest(in)) {
                        return;
                    }
                    boolean last = served == closeAfterRequests;
                    out.write(resp ? "+PONG\r\n".getBytes(StandardCharsets.US_ASCII) : last ? HELLO_CLOSE : HELLO);
                    out.flush();
                    if (last) {
                        s.shutdownOutput();
                        drain(s, in);
                        return;
                    }
                }
            } catch (IOException | RuntimeException | AssertionError e) {
                // The probe decides what happened on the wire; the fake server just ends.
            }
        }

        @Override
        public void close() throws Exception {
            listener.close();
            List<Thread> ts;
            synchronized (this) {
                for (Socket s : sockets) {
                    s.close();
                }
                ts = new ArrayList<>(threads);
            }
            for (Thread t : ts) {
                t.join(5000);
            }
        }
    }

    /** Reads one request head; false at EOF before it. */
    static boolean readRequest(InputStream in) throws IOException {
        int matched = 0;
        int count = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                if (count == 0) {
                    return false;
                }
                throw new IOException("EOF within a request");
            }
            count++;
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return true;
    }

    /** Reads one {@code *1\r\n$4\r\nPING\r\n}; false at EOF before it. */
    static boolean readPing(InputStream in) throws IOException {
        byte[] ping = "*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < ping.length; i++) {
            int b = in.read();
            if (b < 0 && i == 0) {
                return false;
            }
            if (b != ping[i]) {
                throw new IOException("not a PING");
            }
        }
        return true;
    }

    /** Waits (bounded) until the next request has arrived, without reading it. */
    static void awaitPendingRequest(BufferedInputStream in) {
        Await.until("the next request arrives", Duration.ofSeconds(5), () -> {
            try {
                return in.available() > 0;
            } catch (IOException e) {
                return true;
            }
        });
    }

    /** Reads and discards until the client's EOF (bounded by a read timeout), so the close sends no RST. */
    static void drain(Socket s, InputStream in) throws IOException {
        s.setSoTimeout(15_000);
        byte[] b = new byte[4096];
        while (in.read(b) >= 0) {
            // discard
        }
    }

    /** RESP server on native epoll: +PONG per PING; after the stop, the last +PONG leaves with the FIN. */
    private static final class PingServer extends ChannelInboundHandlerAdapter {
        private static final int PING_LENGTH = "*1\r\n$4\r\nPING\r\n".length();
        private final AtomicBoolean stopped;
        private int pending;
        private boolean done;

        PingServer(AtomicBoolean stopped) {
            this.stopped = stopped;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            pending += in.readableBytes();
            in.release();
            while (!done && pending >= PING_LENGTH) {
                pending -= PING_LENGTH;
                ByteBuf pong = Unpooled.copiedBuffer("+PONG\r\n", StandardCharsets.US_ASCII);
                if (!stopped.get()) {
                    ctx.writeAndFlush(pong);
                    continue;
                }
                done = true;
                EpollSocketChannel ch = (EpollSocketChannel) ctx.channel();
                ch.config().setTcpCork(true);
                ctx.writeAndFlush(pong).addListener(f -> ch.shutdownOutput());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
