package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;

import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code bench http} against local servers whose behaviour is known: a correct server must give zero errors,
 * and each kind of broken server must be counted under its own error kind, never as a success.
 */
class HttpBenchTest {
    private static final byte[] HELLO = "Hello World!".getBytes(StandardCharsets.US_ASCII);

    private Server server;
    private EventLoopGroup rawGroup;
    private Channel rawServer;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
        if (rawServer != null) {
            rawServer.close().syncUninterruptibly();
        }
        if (rawGroup != null) {
            rawGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private int startHttpd() {
        HttpProtocol http = HttpProtocol.builder().get("/", req -> Response.bytes(HELLO, "text/plain")).build();
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).protocol(http).build().start();
        return server.port();
    }

    /**
     * A raw Netty server that reads each request head and then does {@code behaviour(ctx)}: whatever the
     * test needs, correct or not.
     */
    private int startRaw(BiConsumer<ChannelHandlerContext, Integer> behaviour) {
        rawGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        rawServer = new ServerBootstrap().group(rawGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            private final StringBuilder seen = new StringBuilder();
                            private int requests;

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ByteBuf in = (ByteBuf) msg;
                                try {
                                    seen.append(in.toString(StandardCharsets.US_ASCII));
                                } finally {
                                    in.release();
                                }
                                int end;
                                while ((end = seen.indexOf("\r\n\r\n")) >= 0) {
                                    seen.delete(0, end + 4);
                                    behaviour.accept(ctx, requests++);
                                }
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        return ((InetSocketAddress) rawServer.localAddress()).getPort();
    }

    private static void write(ChannelHandlerContext ctx, String text, boolean thenClose) {
        var f = ctx.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
        if (thenClose) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static CellResult runCell(int port, HttpLoad.Mode mode, int connections) throws InterruptedException {
        Target target = Target.parse("http://127.0.0.1:" + port + "/");
        try (HttpLoad load = new HttpLoad(target, 2, Duration.ofSeconds(1), 200, "Hello World!", 4)) {
            return load.run(mode, connections, Duration.ZERO, Duration.ofMillis(600), null);
        }
    }

    /** The rule: a response is wrong only by a kind; this cell had only {@code kind} errors and no success. */
    private static void assertOnly(ErrorKind kind, CellResult r) {
        assertEquals(0, r.ok(), "no response may count as valid: " + r);
        assertTrue(r.errors().getOrDefault(kind, 0L) > 0, "expected " + kind + " errors: " + r);
        assertEquals(Set.of(kind), r.errors().keySet(), "only " + kind + " errors: " + r);
    }

    @Test
    void correctServerGivesZeroErrorsInBothModesAndWritesReportsThatParse(@TempDir Path dir) throws Exception {
        int port = startHttpd();
        HttpBenchCommand cmd = new HttpBenchCommand();
        new CommandLine(cmd).parseArgs("--target", "http://127.0.0.1:" + port + "/", "--connections", "1,4",
                "--duration", "700ms", "--warmup", "200ms", "--expect-body", "Hello World!", "--no-progress",
                "--out", dir.resolve("run1").toString());
        Report report = cmd.execute();
        assertEquals(4, report.cells().size());
        for (CellResult c : report.cells()) {
            assertTrue(c.ok() > 0, "some valid responses: " + c);
            assertEquals(0, c.errorTotal(), "a correct server gives no errors: " + c);
            assertTrue(c.p50() > 0 && c.p50() <= c.p99() && c.p99() <= c.max(), "ordered percentiles: " + c);
        }
        CellResult close = report.cells().stream().filter(c -> c.mode().equals("close")).findFirst().orElseThrow();
        // One connect per request (a connection begun just before the measured window may answer inside it).
        assertTrue(close.connects() >= close.ok() - close.connections(), "close mode connects per request: " + close);

        Path json = dir.resolve("run1/results.json");
        JsonNode root = BenchJson.parse(Files.readString(json));
        assertEquals(4, root.path("cells").size(), root::toString);
        assertEquals(16, root.path("sourceAddresses").asInt(), "close mode's source addresses (default 16) are recorded");
        String html = Files.readString(dir.resolve("run1/report.html"));
        assertTrue(html.contains("source addresses"), "the report says close mode spread its source addresses");
        assertEquals("127.0.0.1:" + port, report.label(), "without --label, the target's host:port names the run");

        // --compare: the earlier run appears beside the new one under its label, in the table and the report.
        HttpBenchCommand again = new HttpBenchCommand();
        new CommandLine(again).parseArgs("--target", "http://127.0.0.1:" + port + "/", "--connections", "1",
                "--modes", "keepalive", "--duration", "300ms", "--warmup", "0s", "--no-progress", "--label", "again",
                "--out", dir.resolve("run2").toString(), "--compare", json.toString());
        Report second = again.execute();
        assertEquals(1, second.compared().size());
        assertEquals(report.cells(), second.compared().get(0).cells(), "the cells read back are those written");
        assertTrue(second.table().contains("(127.0.0.1:" + port + ")"), second.table());
        assertFalse(second.table().contains("(old)"), second.table());
        assertEquals("again", Report.read(dir.resolve("run2/results.json")).label());
    }

    @Test
    void contentLengthLongerThanTheBodyIsCountedAsWrongLength() throws Exception {
        // Announces 20 bytes, sends 12, closes: the connection ends inside the body.
        int port = startRaw((ctx, n) -> write(ctx, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nHello World!", true));
        assertOnly(ErrorKind.WRONG_LENGTH, runCell(port, HttpLoad.Mode.KEEPALIVE, 2));
        assertOnly(ErrorKind.WRONG_LENGTH, runCell(port, HttpLoad.Mode.CLOSE, 2));
    }

    @Test
    void bodyLongerThanContentLengthIsCountedAsWrongLength() throws Exception {
        // Announces 5 bytes and sends 12 on a kept-alive connection: 7 bytes too many.
        int port = startRaw((ctx, n) -> write(ctx, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHello World!", false));
        assertOnly(ErrorKind.WRONG_LENGTH, runCell(port, HttpLoad.Mode.KEEPALIVE, 2));
    }

    @Test
    void resetConnectionsAreCountedAsReset() throws Exception {
        // SO_LINGER 0 then close: the kernel sends RST instead of FIN.
        int port = startRaw((ctx, n) -> {
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            ctx.close();
        });
        assertOnly(ErrorKind.RESET, runCell(port, HttpLoad.Mode.KEEPALIVE, 2));
    }

    @Test
    void refusedPortIsCountedAsConnectRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort(); // closed again: nothing listens there now
        }
        assertOnly(ErrorKind.CONNECT_REFUSED, runCell(port, HttpLoad.Mode.KEEPALIVE, 2));
        assertOnly(ErrorKind.CONNECT_REFUSED, runCell(port, HttpLoad.Mode.CLOSE, 2));
    }

    /** Runs {@code bench http} as the command line does; returns its exit status, its stderr in {@code err}. */
    private static int runCommand(StringWriter err, String... args) {
        CommandLine cli = new CommandLine(new HttpBenchCommand());
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }

    @Test
    void refusedTargetFailsBeforeAnyWarmUpWithTheReason(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort(); // closed again: nothing listens there now
        }
        StringWriter err = new StringWriter();
        // A long warm-up and run: the command must not get to them.
        int status = runCommand(err, "--target", "http://127.0.0.1:" + port + "/", "--warmup", "60s",
                "--duration", "60s", "--no-progress", "--out", dir.toString());
        assertEquals(1, status, err.toString());
        String message = err.toString().strip();
        assertTrue(message.startsWith("cannot connect to 127.0.0.1:" + port + ": "), message);
        assertTrue(message.toLowerCase(java.util.Locale.ROOT).contains("refused"), message);
        assertFalse(message.contains("bottleneck"), message);
        assertFalse(Files.exists(dir.resolve("results.json")), "no report of a run that did not happen");
    }

    @Test
    void serverAndTargetTogetherAreAUsageError(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        int status = runCommand(err, "--server", "httpd", "--target", "http://127.0.0.1:1/", "--out", dir.toString());
        assertEquals(2, status, err.toString());
        assertTrue(err.toString().contains("--server and --target cannot be given together"), err.toString());
        assertTrue(err.toString().contains("Usage:"), "picocli shows the usage: " + err);

        StringWriter pidErr = new StringWriter();
        assertEquals(2, runCommand(pidErr, "--server", "httpd", "--server-pid", "1", "--out", dir.toString()));
        assertTrue(pidErr.toString().contains("--server-pid and --server cannot be given together"), pidErr::toString);
    }

    @Test
    void aBadCompareFileFailsBeforeTheServerStartsOrAnyLoad(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Path missing = dir.resolve("missing.json");
        HttpBenchCommand cmd = new HttpBenchCommand();
        new CommandLine(cmd).parseArgs("--server", "httpd", "--compare", missing.toString(), "--no-progress",
                "--out", out.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cmd::execute);
        assertTrue(e.getMessage().startsWith("cannot read " + missing), e.getMessage());
        assertFalse(Files.exists(out), "no httpd child started (it would have written server.log there)");

        Path notResults = dir.resolve("other.json");
        Files.writeString(notResults, "{\"cells\": 3}");
        HttpBenchCommand cmd2 = new HttpBenchCommand();
        new CommandLine(cmd2).parseArgs("--server", "httpd", "--compare", notResults.toString(), "--no-progress",
                "--out", out.toString());
        e = assertThrows(IllegalArgumentException.class, cmd2::execute);
        assertEquals(notResults + " is not a bench http results.json", e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aServerPidOfNoProcessIsAUsageErrorBeforeAnyLoad(@TempDir Path dir) throws Exception {
        // A process that has ended: its pid names no process now.
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long pid = p.pid();
        int port = startHttpd();
        HttpBenchCommand cmd = new HttpBenchCommand();
        new CommandLine(cmd).parseArgs("--target", "http://127.0.0.1:" + port + "/", "--server-pid",
                Long.toString(pid), "--warmup", "60s", "--duration", "60s", "--no-progress", "--out", dir.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cmd::execute);
        assertEquals("--server-pid " + pid + ": no such process", e.getMessage());
        assertFalse(Files.exists(dir.resolve("results.json")));
    }

    @Test
    void wrongStatusAndWrongBodyAreCountedAsSuch() throws Exception {
        // Well-framed responses that are not what was expected.
        int port = startRaw((ctx, n) -> write(ctx, n % 2 == 0
                ? "HTTP/1.1 500 Oops\r\nContent-Length: 12\r\n\r\nHello World!"
                : "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHello Wrold!", false));
        CellResult r = runCell(port, HttpLoad.Mode.KEEPALIVE, 2);
        assertEquals(0, r.ok(), r.toString());
        assertTrue(r.errors().getOrDefault(ErrorKind.BAD_STATUS, 0L) > 0, r.toString());
        assertTrue(r.errors().getOrDefault(ErrorKind.BAD_BODY, 0L) > 0, r.toString());
        assertEquals(Set.of(ErrorKind.BAD_STATUS, ErrorKind.BAD_BODY), r.errors().keySet(), r.toString());
    }

    @Test
    void silentServerIsCountedAsTimeout() throws Exception {
        // Reads requests and never answers: each request times out after --timeout (1 s here).
        int port = startRaw((ctx, n) -> { });
        Target target = Target.parse("http://127.0.0.1:" + port + "/");
        try (HttpLoad load = new HttpLoad(target, 1, Duration.ofMillis(200), 200, null, 1)) {
            CellResult r = load.run(HttpLoad.Mode.KEEPALIVE, 2, Duration.ZERO, Duration.ofMillis(700), null);
            assertOnly(ErrorKind.TIMEOUT, r);
        }
    }

    @Test
    void constantRateSendsAboutTheRequestedNumberOfRequests() throws Exception {
        // --rate 200 for 1 s over 4 connections: about 200 requests, not as many as the server could take.
        int port = startHttpd();
        Target target = Target.parse("http://127.0.0.1:" + port + "/");
        try (HttpLoad load = new HttpLoad(target, 2, Duration.ofSeconds(1), 200, "Hello World!", 4)) {
            for (HttpLoad.Mode mode : HttpLoad.Mode.values()) {
                CellResult r = load.run(mode, 4, 200, Duration.ofMillis(200), Duration.ofSeconds(1), null);
                assertEquals(0, r.errorTotal(), r.toString());
                assertTrue(r.ok() >= 150 && r.ok() <= 230, "about 200 requests at 200/s: " + r);
            }
        }
    }

    @Test
    void serverHttpdRunsOurHttpdInAChildJvmAndStopsIt(@TempDir Path dir) throws Exception {
        // --server httpd: no --target needed; the child is started, measured, and stopped.
        HttpBenchCommand cmd = new HttpBenchCommand();
        new CommandLine(cmd).parseArgs("--server", "httpd", "--server-option=--no-metrics", "--connections", "2",
                "--modes", "keepalive", "--duration", "500ms", "--warmup", "300ms", "--expect-body", "Hello World!",
                "--no-progress", "--out", dir.toString());
        Report report = cmd.execute();
        CellResult r = report.cells().get(0);
        assertTrue(r.ok() > 0, r.toString());
        assertEquals(0, r.errorTotal(), r.toString());
        // Another process's CPU, read through ProcessHandle: known.
        assertTrue(r.serverCpuMs() != null && r.serverCpuMs() > 0, "the child's CPU is read: " + r);
        int port = Target.parse(report.target()).address().getPort();
        // Stopped: its port no longer accepts connections.
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            fail("the httpd child still accepts connections on " + port);
        } catch (IOException expected) {
            // refused: the child is gone
        }
        assertTrue(Files.exists(dir.resolve("server.log")));
    }
}
