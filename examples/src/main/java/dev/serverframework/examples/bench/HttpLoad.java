package dev.serverframework.examples.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The HTTP load generator: Netty client connections (epoll when available), each a closed loop that sends
 * its next request only when the previous response has fully arrived and been validated. One instance runs
 * any number of cells one after the other on the same event loops; {@link #close()} releases them.
 */
public final class HttpLoad implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpLoad.class);

    /** How requests use connections. */
    public enum Mode {
        /** One connection per slot, reused: the next request goes out when the previous response is in. */
        KEEPALIVE,
        /** A new TCP connection per request, with {@code Connection: close}; the server closes it. */
        CLOSE;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Mode parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "keepalive", "keep-alive" -> KEEPALIVE;
                case "close" -> CLOSE;
                default -> throw new IllegalArgumentException("mode must be keepalive or close, got " + s);
            };
        }
    }

    /** A snapshot for the live progress line. */
    public record Progress(String phase, double elapsedSeconds, double totalSeconds, long ok, long errors) {
    }

    private final Target target;
    private final EventLoopGroup group;
    private final Class<? extends Channel> channelClass;
    private final int threads;
    private final Duration timeout;
    private final int expectStatus;
    private final byte[] expectBody;
    private final List<InetSocketAddress> sourceAddresses;
    private final ByteBuf keepAliveRequest;
    private final ByteBuf closeRequest;

    /**
     * @param sourceAddressCount how many 127.0.0.x source addresses close mode spreads its connections over
     *                           (only when the target is on IPv4 loopback; 1 means the kernel's choice)
     */
    public HttpLoad(Target target, int threads, Duration timeout, int expectStatus, String expectBody,
                    int sourceAddressCount) {
        this.target = target;
        this.threads = threads;
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

    public int threads() {
        return threads;
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
        Cell cell = new Cell(mode, connections, rate);
        return cell.run(warmup, duration, progress);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        // The request buffers are unreleasable wrappers; release what they wrap.
        ((ByteBuf) keepAliveRequest.unwrap()).release();
        ((ByteBuf) closeRequest.unwrap()).release();
    }

    /** Classifies a connect failure. */
    static ErrorKind connectErrorKind(Throwable t) {
        if (t instanceof ConnectTimeoutException) {
            return ErrorKind.TIMEOUT;
        }
        String msg = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (t instanceof ConnectException && msg.contains("refused")) {
            return ErrorKind.CONNECT_REFUSED;
        }
        return ErrorKind.CONNECT_ERROR;
    }

    /** Classifies an I/O failure on an established connection. */
    static ErrorKind ioErrorKind(Throwable t) {
        String msg = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (t instanceof IOException && (msg.contains("reset") || msg.contains("broken pipe"))) {
            return ErrorKind.RESET;
        }
        return ErrorKind.OTHER;
    }

    /** One cell's shared state: counters, histograms and the measurement window. */
    private final class Cell {
        final Mode mode;
        final int connections;
        /** Nanoseconds between one connection's intended sends; 0 = closed loop (send when ready). */
        final long interval;
        final Recorder latency = new Recorder(3);
        final Recorder connectTime = new Recorder(3);
        final LongAdder ok = new LongAdder();
        /** Every valid response, warm-up included, for the progress line. */
        final LongAdder seen = new LongAdder();
        final LongAdder connects = new LongAdder();
        final EnumMap<ErrorKind, LongAdder> errors = new EnumMap<>(ErrorKind.class);
        final AtomicReference<String> firstError = new AtomicReference<>();
        final CountDownLatch finished;
        volatile boolean running = true;
        volatile long windowStart = Long.MAX_VALUE;
        volatile long windowEnd = Long.MAX_VALUE;
        final Bootstrap bootstrap;

        Cell(Mode mode, int connections, double rate) {
            this.mode = mode;
            this.connections = connections;
            this.interval = rate > 0 ? Math.max(1, Math.round(connections * 1e9 / rate)) : 0;
            this.finished = new CountDownLatch(connections);
            for (ErrorKind k : ErrorKind.values()) {
                errors.put(k, new LongAdder());
            }
            bootstrap = new Bootstrap().group(group).channel(channelClass)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                    .option(ChannelOption.SO_REUSEADDR, true);
        }

        /** True when an event that began at {@code start} and ends now belongs to the recorded window. */
        boolean inWindow(long start, long now) {
            return start >= windowStart && now <= windowEnd;
        }

        void error(ErrorKind kind, String detail, long start, long now) {
            if (inWindow(start, now)) {
                errors.get(kind).increment();
                if (firstError.get() == null && firstError.compareAndSet(null, kind.label() + ": " + detail)) {
                    log.debug("first error in {} c={}: {}: {}", mode.label(), connections, kind.label(), detail);
                }
            }
        }

        CellResult run(Duration warmup, Duration duration, Consumer<Progress> progress) throws InterruptedException {
            List<Slot> slots = new ArrayList<>(connections);
            for (int i = 0; i < connections; i++) {
                InetSocketAddress local = mode == Mode.CLOSE && !sourceAddresses.isEmpty()
                        ? sourceAddresses.get(i % sourceAddresses.size()) : null;
                Slot slot = new Slot(this, group.next(), local, i);
                slots.add(slot);
                slot.loop.execute(slot::start);
            }
            long t0 = System.nanoTime();
            long warmEnd = t0 + warmup.toNanos();
            waitReporting("warmup", t0, warmEnd, progress);
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            latency.reset();
            connectTime.reset();
            long start = System.nanoTime();
            windowStart = start;
            windowEnd = start + duration.toNanos();
            waitReporting("run", start, windowEnd, progress);
            long cpu1 = os.getProcessCpuTime();
            long end = System.nanoTime();
            running = false;
            // Let each connection finish its request in flight (bounded by the timeout), then force the rest.
            if (!finished.await(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                for (Slot s : slots) {
                    s.loop.execute(s::finish);
                }
                finished.await(5, TimeUnit.SECONDS);
            }
            double seconds = (Math.min(end, windowEnd) - start) / 1e9;
            Histogram lat = latency.getIntervalHistogram();
            Histogram con = connectTime.getIntervalHistogram();
            Map<ErrorKind, Long> errs = new EnumMap<>(ErrorKind.class);
            errors.forEach((k, v) -> {
                if (v.sum() > 0) {
                    errs.put(k, v.sum());
                }
            });
            double cpuCores = cpu1 < 0 ? -1 : (cpu1 - cpu0) / (double) (end - start);
            int cores = Runtime.getRuntime().availableProcessors();
            return new CellResult(mode.label(), connections, seconds, ok.sum(), errs,
                    us(lat, 50), us(lat, 90), us(lat, 99), us(lat, 99.9), lat.getTotalCount() == 0 ? 0 : lat.getMaxValue() / 1e3,
                    lat.getTotalCount() == 0 ? 0 : lat.getMean() / 1e3,
                    con.getTotalCount(), us(con, 50), us(con, 99), con.getTotalCount() == 0 ? 0 : con.getMaxValue() / 1e3,
                    cpuCores, cpuCores < 0 ? -1 : cpuCores / cores, firstError.get());
        }

        private double us(Histogram h, double percentile) {
            return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
        }

        private void waitReporting(String phase, long from, long until, Consumer<Progress> progress)
                throws InterruptedException {
            long total = until - from;
            while (true) {
                long now = System.nanoTime();
                if (now >= until) {
                    break;
                }
                long errs = errors.values().stream().mapToLong(LongAdder::sum).sum();
                if (progress != null) {
                    progress.accept(new Progress(phase, (now - from) / 1e9, total / 1e9, seen.sum(), errs));
                }
                // Waiting on the latch doubles as an interruptible, bounded sleep.
                finished.await(Math.min(500_000_000L, until - now), TimeUnit.NANOSECONDS);
            }
        }
    }

    private enum Phase { IDLE, WAITING, CONNECTING, REQUEST, AWAIT_CLOSE, FAILED, DONE }

    /**
     * One closed-loop client: at most one connection and one request at a time. Everything runs on
     * {@link #loop}; it is the handler of each of its connections in turn.
     */
    @ChannelHandler.Sharable
    private final class Slot extends ChannelInboundHandlerAdapter {
        final Cell cell;
        final EventLoop loop;
        final InetSocketAddress local;
        final ResponseParser parser;
        Channel channel;
        Phase phase = Phase.IDLE;
        long phaseStart;
        /** What this request's latency is measured from: its send, or its intended send at a fixed rate. */
        long requestBase;
        final int index;
        long nextIntended;
        ScheduledFuture<?> timeoutCheck;
        boolean done;

        Slot(Cell cell, EventLoop loop, InetSocketAddress local, int index) {
            this.cell = cell;
            this.index = index;
            this.loop = loop;
            this.local = local;
            this.parser = new ResponseParser(expectStatus, expectBody, false);
        }

        void start() {
            long period = Math.max(10, timeout.toMillis() / 4);
            timeoutCheck = loop.scheduleAtFixedRate(this::checkTimeout, period, period, TimeUnit.MILLISECONDS);
            // Connections start spread over one interval, so the total rate is even from the start.
            nextIntended = System.nanoTime() + cell.interval * index / Math.max(1, cell.connections);
            connect();
        }

        void connect() {
            if (!cell.running) {
                finish();
                return;
            }
            if (cell.mode == Mode.CLOSE && waitForSchedule(this::connectWhenDue)) {
                return;
            }
            phase = Phase.CONNECTING;
            phaseStart = System.nanoTime();
            long started = phaseStart;
            ChannelFuture f = local == null
                    ? bootstrap().connect(target.address())
                    : bootstrap().connect(target.address(), local);
            channel = f.channel();
            f.addListener((ChannelFuture cf) -> {
                if (cf.channel() != channel || phase != Phase.CONNECTING) {
                    return; // timed out or finished meanwhile
                }
                long now = System.nanoTime();
                if (cf.isSuccess() && cf.channel().localAddress().equals(cf.channel().remoteAddress())) {
                    // TCP self-connect: with nothing listening on a loopback port, the kernel may pick that
                    // very port as the source and "connect" the socket to itself. Nothing is listening.
                    cell.error(ErrorKind.CONNECT_REFUSED, "self-connect: nothing listens on "
                            + target.address(), started, now);
                    phase = Phase.FAILED;
                    cf.channel().close();
                    loop.execute(this::connect);
                } else if (cf.isSuccess()) {
                    cell.connects.increment();
                    if (cell.inWindow(started, now)) {
                        cell.connectTime.recordValue(now - started);
                    }
                    send();
                } else {
                    Throwable cause = cf.cause();
                    cell.error(connectErrorKind(cause), String.valueOf(cause.getMessage()), started, now);
                    phase = Phase.FAILED;
                    cf.channel().close();
                    // Through the queue, not recursively: a refused connect may fail at once.
                    loop.execute(this::connect);
                }
            });
        }

        private Bootstrap bootstrap() {
            return cell.bootstrap.clone(loop).handler(this);
        }

        /**
         * At a fixed rate: true (and {@code next} scheduled) when this connection's next intended send is
         * still ahead; else takes that intended time as the request's base. Always false in a closed loop.
         */
        private boolean waitForSchedule(Runnable next) {
            if (cell.interval == 0) {
                return false;
            }
            long now = System.nanoTime();
            if (nextIntended > now) {
                phase = Phase.WAITING;
                loop.schedule(next, nextIntended - now, TimeUnit.NANOSECONDS);
                return true;
            }
            requestBase = nextIntended;
            nextIntended += cell.interval;
            return false;
        }

        private void connectWhenDue() {
            if (phase == Phase.WAITING && !done) {
                connect();
            }
        }

        private void sendWhenDue() {
            if (phase != Phase.WAITING || done) {
                return; // the connection failed or the cell ended meanwhile
            }
            if (!cell.running) {
                finish();
                return;
            }
            send();
        }

        void send() {
            if (cell.mode == Mode.KEEPALIVE && waitForSchedule(this::sendWhenDue)) {
                return;
            }
            phase = Phase.REQUEST;
            phaseStart = System.nanoTime();
            if (cell.interval == 0) {
                requestBase = phaseStart;
            }
            parser.expectResponse();
            ByteBuf req = (cell.mode == Mode.CLOSE ? closeRequest : keepAliveRequest).duplicate();
            // A void promise: no listener per request; a failed write reaches exceptionCaught instead.
            channel.writeAndFlush(req, channel.voidPromise());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (ctx.channel() != channel) {
                    return;
                }
                if (phase == Phase.AWAIT_CLOSE || phase == Phase.WAITING) {
                    // The response was complete; more bytes mean its Content-Length was too short.
                    fail(ErrorKind.WRONG_LENGTH, buf.readableBytes() + " bytes after a complete response");
                    return;
                }
                if (phase != Phase.REQUEST) {
                    return;
                }
                ResponseParser.Outcome outcome = parser.feed(buf);
                if (outcome != null) {
                    handle(outcome);
                }
            } finally {
                buf.release();
            }
        }

        private void handle(ResponseParser.Outcome outcome) {
            long now = System.nanoTime();
            if (outcome.kind() == ErrorKind.BAD_STATUS || outcome.kind() == ErrorKind.BAD_BODY) {
                // Wrong but well framed: counted, and the connection stays usable as the server intends.
                cell.error(outcome.kind(), outcome.detail(), requestBase, now);
            } else if (!outcome.ok()) {
                fail(outcome.kind(), outcome.detail());
                return;
            } else {
                cell.seen.increment();
                if (cell.inWindow(requestBase, now)) {
                    cell.ok.increment();
                    cell.latency.recordValue(now - requestBase);
                }
            }
            if (cell.mode == Mode.KEEPALIVE && !outcome.serverCloses()) {
                if (cell.running) {
                    send();
                } else {
                    finish();
                }
            } else if (channel.isActive()) {
                // Connection: close: the server closes; its close (channelInactive) starts the next connect.
                phase = Phase.AWAIT_CLOSE;
                phaseStart = now;
            } else {
                phase = Phase.IDLE;
                loop.execute(this::connect);
            }
        }

        /** Counts the error for the request in progress and replaces the connection. */
        private void fail(ErrorKind kind, String detail) {
            cell.error(kind, detail, phaseStart, System.nanoTime());
            boolean wasActive = channel.isActive();
            phase = Phase.FAILED;
            channel.close();
            if (!wasActive) {
                // No channelInactive will follow (a connect that timed out, or already closed): go on here.
                loop.execute(this::connect);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() != channel || phase == Phase.DONE) {
                return;
            }
            if (phase == Phase.REQUEST) {
                ResponseParser.Outcome outcome = parser.endOfInput();
                if (outcome != null && outcome.ok()) {
                    handle(outcome); // a body delimited by the end of the connection
                    return;
                } else if (outcome != null) {
                    cell.error(outcome.kind(), outcome.detail(), phaseStart, System.nanoTime());
                }
            }
            phase = Phase.IDLE;
            connect();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel() != channel) {
                ctx.close();
                return;
            }
            if (phase == Phase.REQUEST) {
                fail(ioErrorKind(cause), String.valueOf(cause.getMessage()));
            } else {
                ctx.close();
            }
        }

        void checkTimeout() {
            if (phase != Phase.CONNECTING && phase != Phase.REQUEST && phase != Phase.AWAIT_CLOSE) {
                return;
            }
            long now = System.nanoTime();
            if (now - phaseStart < timeout.toNanos()) {
                return;
            }
            String what = switch (phase) {
                case CONNECTING -> "no connection";
                case REQUEST -> parser.started() ? "response incomplete" : "no response";
                default -> "server did not close after Connection: close";
            };
            fail(phase == Phase.AWAIT_CLOSE ? ErrorKind.OTHER : ErrorKind.TIMEOUT,
                    what + " within " + timeout.toMillis() + " ms");
        }

        void finish() {
            if (done) {
                return;
            }
            done = true;
            phase = Phase.DONE;
            if (timeoutCheck != null) {
                timeoutCheck.cancel(false);
            }
            if (channel != null) {
                channel.close();
            }
            cell.finished.countDown();
        }
    }
}
