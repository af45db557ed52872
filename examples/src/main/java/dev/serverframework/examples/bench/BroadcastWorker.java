package dev.serverframework.examples.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code bench broadcast-worker} (hidden): one load process of {@code bench broadcast}. It opens its share of
 * the connections ({@link BroadcastClient}s on Netty event loops), each with one keep-alive GET, and then
 * obeys one-line commands on stdin, answering each with one line on stdout:
 * <ul>
 *   <li>at start, unasked: {@code OPENED <ok> <failed> <first error>};</li>
 *   <li>{@code UPGRADE}: the WebSocket handshake on every idle HTTP connection:
 *       {@code UPGRADED <ok> <failed> <first error>};</li>
 *   <li>{@code RESET}: forgets the messages received so far (counts, latencies, gaps): {@code RESET};</li>
 *   <li>{@code DRAIN <messages> <ms>}: waits until every open socket has received that many messages since
 *       the last reset, or for {@code ms} at most: {@code DRAINED <open> <complete> <deliveries> <gaps>
 *       <negative> <untimed> <closed> <close frames> <pings> <errors> <first µs> <last µs> <latency histogram>
 *       <first error>} ({@link Drained} reads it);</li>
 *   <li>{@code QUIT} or the end of stdin: closes everything and exits.</li>
 * </ul>
 * Connections open at most {@value #IN_FLIGHT} at a time, so that the server's accept queue is not flooded;
 * every wait is bounded.
 */
@Command(name = "broadcast-worker", hidden = true, description = "Internal: one load process of 'bench broadcast'.")
public final class BroadcastWorker implements Callable<Integer> {
    /** Connects, or handshakes, waiting for their answer at one time. */
    static final int IN_FLIGHT = 256;

    @Spec
    CommandSpec spec;

    @Mixin
    LoadWorkerOptions options;

    @Option(names = "--threads", defaultValue = "1")
    int threads;

    private final List<BroadcastClient> clients = new ArrayList<>();
    private final Recorder latency = new Recorder(3);
    private final LongAdder deliveries = new LongAdder();
    private final LongAdder gaps = new LongAdder();
    private final LongAdder negative = new LongAdder();
    private final LongAdder untimed = new LongAdder();
    private final LongAccumulator firstReceive = new LongAccumulator(Math::min, Long.MAX_VALUE);
    private final LongAccumulator lastReceive = new LongAccumulator(Math::max, Long.MIN_VALUE);
    private final LongAdder closed = new LongAdder();
    private final LongAdder closeFrames = new LongAdder();
    private final LongAdder pings = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private byte[] request;

    /** Opens the connections, then obeys the commands on stdin until QUIT or its end. */
    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        InetSocketAddress to = options.server();
        request = options.request();
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("broadcast-load"),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            Bootstrap base = new Bootstrap().group(group)
                    .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, options.timeoutMs);
            long deadline = deadline();
            Batch opening = new Batch();
            for (int i = 0; i < options.count && opening.start(deadline); i++) {
                BroadcastClient c = new BroadcastClient(this, opening);
                clients.add(c);
                Bootstrap b = base.clone().handler(c);
                InetSocketAddress source = options.source(to, i);
                if (source != null) {
                    b.localAddress(source);
                }
                b.connect(to).addListener(f -> {
                    if (!f.isSuccess()) {
                        c.connectFailed(f.cause());
                    }
                });
            }
            out.println("OPENED " + opening.finish(options.count, deadline));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            String line;
            while ((line = in.readLine()) != null) {
                String[] cmd = line.trim().split(" ");
                if (cmd[0].equals("UPGRADE")) {
                    out.println("UPGRADED " + upgrade());
                } else if (cmd[0].equals("RESET")) {
                    reset();
                    out.println("RESET");
                } else if (cmd[0].equals("DRAIN")) {
                    out.println(drain(Integer.parseInt(cmd[1]), Long.parseLong(cmd[2])));
                } else if (cmd[0].equals("QUIT")) {
                    break;
                }
                out.flush();
            }
        } finally {
            clients.forEach(BroadcastClient::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
        return 0;
    }

    /** How long a phase over all of this process's connections may take: generous, but bounded. */
    private long deadline() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30_000L + 2L * options.count + options.timeoutMs);
    }

    /** The handshake on every idle HTTP connection. */
    private String upgrade() throws InterruptedException {
        List<BroadcastClient> idle = clients.stream().filter(BroadcastClient::isIdleHttp).toList();
        long deadline = deadline();
        Batch upgrading = new Batch();
        for (int i = 0; i < idle.size() && upgrading.start(deadline); i++) {
            idle.get(i).upgrade(upgrading);
        }
        return upgrading.finish(idle.size(), deadline);
    }

    /** Forgets what was received, on each connection's event loop. */
    private void reset() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(clients.size());
        for (BroadcastClient c : clients) {
            c.reset(done::countDown);
        }
        done.await(options.timeoutMs, TimeUnit.MILLISECONDS);
        latency.reset();
        deliveries.reset();
        gaps.reset();
        negative.reset();
        untimed.reset();
        firstReceive.reset();
        lastReceive.reset();
    }

    /** Waits (bounded) until each open socket has {@code expected} messages; then what was received. */
    private String drain(int expected, long ms) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        int i = 0;
        while (i < clients.size()) {
            BroadcastClient c = clients.get(i);
            if (!c.isOpen() || c.received() >= expected) {
                i++;
            } else if (System.nanoTime() - deadline > 0) {
                break;
            } else {
                // A bounded poll: the sockets count on their event loops, and nothing wakes this thread.
                LockSupport.parkNanos(1_000_000);
            }
        }
        int open = 0;
        int complete = 0;
        for (BroadcastClient c : clients) {
            open += c.isOpen() ? 1 : 0;
            complete += c.received() >= expected ? 1 : 0;
        }
        long first = firstReceive.get();
        long last = lastReceive.get();
        String err = firstError.get();
        return "DRAINED " + open + " " + complete + " " + deliveries.sum() + " " + gaps.sum() + " "
                + negative.sum() + " " + untimed.sum() + " " + closed.sum() + " " + closeFrames.sum() + " "
                + pings.sum() + " " + errors.sum() + " " + (first == Long.MAX_VALUE ? -1 : first) + " "
                + (last == Long.MIN_VALUE ? -1 : last) + " " + encode(latency.getIntervalHistogram()) + " "
                + (err == null ? "-" : err.replace(' ', '_'));
    }

    // ---- what the connections need and tell, from their event loops ----

    /** The keep-alive GET every connection starts with. */
    byte[] request() {
        return request;
    }

    /** The WebSocket handshake with this key. */
    byte[] handshake(String key) {
        return ("GET " + BroadcastEndpoint.PATH + " HTTP/1.1\r\nHost: " + options.target
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Messages arrived at {@code micros} (wall clock). */
    void receivedAt(long micros) {
        firstReceive.accumulate(micros);
        lastReceive.accumulate(micros);
    }

    /** A message whose send time was {@code micros} before it arrived; {@code gap}: not the next in sequence. */
    void delivered(long micros, boolean gap) {
        deliveries.increment();
        if (gap) {
            gaps.increment();
        }
        if (micros < 0) {
            negative.increment();
            micros = 0;
        }
        latency.recordValue(micros);
    }

    /** A message too short to carry a send time. */
    void untimed() {
        deliveries.increment();
        untimed.increment();
    }

    void pinged() {
        pings.increment();
    }

    void closeFrame() {
        closeFrames.increment();
    }

    void closedByServer() {
        closed.increment();
    }

    void error(String what) {
        errors.increment();
        firstError.compareAndSet(null, what);
    }

    /** A failure in one word-safe line: its type and message. */
    static String describe(Throwable t) {
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** A histogram as one word: its compressed encoding in base64. */
    static String encode(Histogram h) {
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int length = h.encodeIntoCompressedByteBuffer(buf);
        return Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), length));
    }

    /** A histogram from {@link #encode}. */
    static Histogram decode(String word) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(word)), 0);
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalArgumentException("not a histogram: " + word, e);
        }
    }

    /**
     * One phase over many connections (opening them, or their handshakes): at most {@value #IN_FLIGHT} wait
     * for their answer at a time; each tells {@link #done} once. The worker's thread starts and finishes it;
     * the connections' event loops tell it.
     */
    static final class Batch {
        private final Semaphore permits = new Semaphore(IN_FLIGHT);
        private final AtomicInteger ok = new AtomicInteger();
        private final AtomicReference<String> firstError = new AtomicReference<>();

        /** Waits for room for one more, until the deadline; false when it has passed. */
        boolean start(long deadline) throws InterruptedException {
            long left = deadline - System.nanoTime();
            return left > 0 && permits.tryAcquire(left, TimeUnit.NANOSECONDS);
        }

        /** One connection's answer came (or its failure). Any thread. */
        void done(boolean success, String error) {
            if (success) {
                ok.incrementAndGet();
            } else if (error != null) {
                firstError.compareAndSet(null, error);
            }
            permits.release();
        }

        /**
         * Waits until all that were started have answered, or the deadline; returns {@code <ok> <failed>
         * <first error>} of {@code total}: what did not answer in time, or was never started, failed.
         */
        String finish(int total, long deadline) throws InterruptedException {
            if (permits.tryAcquire(IN_FLIGHT, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                permits.release(IN_FLIGHT);
            }
            int good = ok.get();
            String err = firstError.get();
            if (err == null && good < total) {
                err = "no answer in time";
            }
            return good + " " + (total - good) + " " + (err == null ? "-" : err.replace(' ', '_'));
        }
    }
}
