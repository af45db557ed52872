package dev.serverframework.examples.bench;

import dev.serverframework.examples.UsageException;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The HTTP load generator: Netty client connections (epoll when available), each a closed loop that sends
 * its next request only when the previous response has fully arrived and been validated. One instance runs
 * any number of cells ({@link LoadCell}: one mode at one concurrency, its {@link ClosedLoopClient}s) one after
 * the other on the same event loops; {@link #close()} releases them.
 */
public final class HttpLoad implements AutoCloseable {

    /** How requests use connections. */
    public enum Mode {
        /** One connection per slot, reused: the next request goes out when the previous response is in. */
        KEEPALIVE,
        /** A new TCP connection per request, with {@code Connection: close}; the server closes it. */
        CLOSE;

        /** "keepalive" or "close". */
        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** "keepalive" (or "keep-alive") or "close", any case. */
        static Mode parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "keepalive", "keep-alive" -> KEEPALIVE;
                case "close" -> CLOSE;
                default -> throw new UsageException("--modes must be keepalive or close, got " + s);
            };
        }
    }

    /**
     * A snapshot for the live progress line.
     *
     * @param phase          "warmup" or "run"
     * @param elapsedSeconds time into the phase
     * @param totalSeconds   the phase's length
     * @param ok             valid responses so far, warm-up included
     * @param errors         errors counted so far (in the recorded window)
     */
    public record Progress(String phase, double elapsedSeconds, double totalSeconds, long ok, long errors) {
    }

    private final Target target;
    private final EventLoopGroup group;
    private final Class<? extends Channel> channelClass;
    private final Duration timeout;
    private final int expectStatus;
    private final byte[] expectBody;
    private final List<InetSocketAddress> sourceAddresses;
    private final ByteBuf keepAliveRequest;
    private final ByteBuf closeRequest;
    private final Long serverPid;

    /**
     * A generator with its event loops started.
     *
     * @param target             the server and the URL to request
     * @param threads            client event-loop threads
     * @param timeout            a connect or a response slower than this is an error
     * @param expectStatus       the status every response must have
     * @param expectBody         the exact body every response must have, or null for any
     * @param sourceAddressCount how many 127.0.0.x source addresses close mode spreads its connections over
     *                           (only when the target is on IPv4 loopback; 1 means the kernel's choice)
     */
    public HttpLoad(Target target, int threads, Duration timeout, int expectStatus, String expectBody,
                    int sourceAddressCount) {
        this(target, threads, timeout, expectStatus, expectBody, sourceAddressCount, null);
    }

    /**
     * Like {@link #HttpLoad(Target, int, Duration, int, String, int)}, also measuring the server's CPU time
     * per cell from {@code /proc/<serverPid>/stat}.
     *
     * @param serverPid the server's process id, or null when unknown
     */
    public HttpLoad(Target target, int threads, Duration timeout, int expectStatus, String expectBody,
                    int sourceAddressCount, Long serverPid) {
        this.target = target;
        this.serverPid = serverPid;
        this.timeout = timeout;
        this.expectStatus = expectStatus;
        this.expectBody = expectBody == null ? null : expectBody.getBytes(StandardCharsets.UTF_8);
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("bench-io"),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.channelClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        this.sourceAddresses = sourceAddresses(target, sourceAddressCount);
        this.keepAliveRequest = request(target, false);
        this.closeRequest = request(target, true);
    }

    /** The 127.0.0.x addresses close-mode connections bind to; empty when the kernel chooses. */
    public List<InetSocketAddress> sourceAddresses() {
        return sourceAddresses;
    }

    // ---- for the cells and their clients ----

    EventLoopGroup group() {
        return group;
    }

    Class<? extends Channel> channelClass() {
        return channelClass;
    }

    Target target() {
        return target;
    }

    /** The server's process id, or null when unknown. */
    Long serverPid() {
        return serverPid;
    }

    /** Limit of each connect and each response. */
    Duration timeout() {
        return timeout;
    }

    /** The request for {@code mode}, with indices of its own (the bytes are shared). */
    ByteBuf request(Mode mode) {
        return (mode == Mode.CLOSE ? closeRequest : keepAliveRequest).duplicate();
    }

    /** A parser that checks responses against the expected status and body. */
    ResponseParser newParser() {
        return new ResponseParser(expectStatus, expectBody, false);
    }

    private static List<InetSocketAddress> sourceAddresses(Target target, int count) {
        List<InetSocketAddress> list = new ArrayList<>();
        if (count <= 1 || !target.loopbackV4()) {
            return List.of();
        }
        for (int i = 1; i <= Math.min(count, 254); i++) {
            try {
                list.add(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) i}), 0));
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        return List.copyOf(list);
    }

    private static ByteBuf request(Target target, boolean close) {
        String req = "GET " + target.pathAndQuery() + " HTTP/1.1\r\n"
                + "Host: " + target.hostHeader() + "\r\n"
                + "User-Agent: server-framework-bench\r\n"
                + (close ? "Connection: close\r\n" : "")
                + "\r\n";
        byte[] bytes = req.getBytes(StandardCharsets.US_ASCII);
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes));
    }

    /**
     * Runs one cell: {@code warmup} unrecorded, then {@code duration} recorded. Blocks for about
     * warmup + duration (+ at most the timeout to let the last requests finish).
     *
     * @param progress called about every 500 ms from this thread
     */
    public CellResult run(Mode mode, int connections, Duration warmup, Duration duration,
                          Consumer<Progress> progress) throws InterruptedException {
        return run(mode, connections, 0, warmup, duration, progress);
    }

    /**
     * Like {@link #run(Mode, int, Duration, Duration, Consumer)}, at a constant total request rate when
     * {@code rate > 0}: each connection sends on its own fixed schedule ({@code connections / rate} apart), and
     * latency runs from the intended send time, so a stalled server is not hidden by requests never sent
     * (no coordinated omission). In close mode the intended time is when the connect starts.
     */
    public CellResult run(Mode mode, int connections, double rate, Duration warmup, Duration duration,
                          Consumer<Progress> progress) throws InterruptedException {
        return new LoadCell(this, mode, connections, rate).run(warmup, duration, progress);
    }

    /** Shuts the event loops down and frees the request buffers. */
    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        // The request buffers are unreleasable wrappers; release what they wrap.
        ((ByteBuf) keepAliveRequest.unwrap()).release();
        ((ByteBuf) closeRequest.unwrap()).release();
    }
}
