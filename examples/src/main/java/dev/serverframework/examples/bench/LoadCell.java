package dev.serverframework.examples.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.serverframework.examples.bench.HttpLoad.Mode;
import dev.serverframework.examples.bench.HttpLoad.Progress;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * One cell of a {@code bench http} run (one mode at one concurrency): its {@link ClosedLoopClient}s, what
 * they count (latency and connect-time histograms, responses, errors by kind, the first error), and the
 * measurement window: a warm-up that is not recorded, then the recorded run, then a bounded wait for the
 * requests in flight. An event that began before the window or ended after it is not counted.
 *
 * <p>{@link #run} runs on the caller's thread; the clients call the recording methods from their event loops.
 */
final class LoadCell {
    private static final Logger log = LoggerFactory.getLogger(LoadCell.class);

    private final HttpLoad load;
    private final Mode mode;
    private final int connections;
    /** Nanoseconds between one connection's intended sends; 0 = closed loop (send when ready). */
    private final long interval;
    private final Bootstrap bootstrap;
    private final Recorder latency = new Recorder(3);
    private final Recorder connectTime = new Recorder(3);
    private final LongAdder ok = new LongAdder();
    /** Responses, valid or not, that completed in the window, whenever sent: the server's work in it. */
    private final LongAdder completed = new LongAdder();
    /** Every valid response, warm-up included, for the progress line. */
    private final LongAdder seen = new LongAdder();
    private final EnumMap<ErrorKind, LongAdder> errors = new EnumMap<>(ErrorKind.class);
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final CountDownLatch finished;
    private volatile boolean running = true;
    private volatile long windowStart = Long.MAX_VALUE;
    private volatile long windowEnd = Long.MAX_VALUE;

    /**
     * @param load        the generator: event loops, target, requests, what a valid response is
     * @param mode        how requests use connections
     * @param connections concurrent clients
     * @param rate        total requests per second, or 0 for closed loops
     */
    LoadCell(HttpLoad load, Mode mode, int connections, double rate) {
        this.load = load;
        this.mode = mode;
        this.connections = connections;
        this.interval = rate > 0 ? Math.max(1, Math.round(connections * 1e9 / rate)) : 0;
        this.finished = new CountDownLatch(connections);
        for (ErrorKind k : ErrorKind.values()) {
            errors.put(k, new LongAdder());
        }
        bootstrap = new Bootstrap().group(load.group()).channel(load.channelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout().toMillis()))
                .option(ChannelOption.SO_REUSEADDR, true);
    }

    // ---- what the clients read ----

    Mode mode() {
        return mode;
    }

    int connections() {
        return connections;
    }

    /** Nanoseconds between one client's intended sends; 0 in a closed loop. */
    long interval() {
        return interval;
    }

    /** False once the recorded window is over: clients finish their request in flight and stop. */
    boolean isRunning() {
        return running;
    }

    Target target() {
        return load.target();
    }

    Duration timeout() {
        return load.timeout();
    }

    /** A bootstrap for a connection on {@code loop}, the cell's options set. */
    Bootstrap bootstrap(EventLoop loop) {
        return bootstrap.clone(loop);
    }

    /** The request to send in this mode, with its own indices. */
    ByteBuf request() {
        return load.request(mode);
    }

    /** A parser that validates responses as this run expects them. */
    ResponseParser newParser() {
        return load.newParser();
    }

    // ---- what the clients record (from their event loops) ----

    /** A connect that started at {@code start} succeeded at {@code now}. */
    void connected(long start, long now) {
        if (inWindow(start, now)) {
            connectTime.recordValue(now - start);
        }
    }

    /** A valid response to a request whose latency runs from {@code start}. */
    void answered(long start, long now) {
        seen.increment();
        if (now >= windowStart && now <= windowEnd) {
            completed.increment();
        }
        if (inWindow(start, now)) {
            ok.increment();
            latency.recordValue(now - start);
        }
    }

    /** A failed request or connect, counted under {@code kind}. */
    void error(ErrorKind kind, String detail, long start, long now) {
        if (kind.isResponse() && now >= windowStart && now <= windowEnd) {
            completed.increment();
        }
        if (inWindow(start, now)) {
            errors.get(kind).increment();
            if (firstError.get() == null && firstError.compareAndSet(null, kind.label() + ": " + detail)) {
                log.debug("first error in {} c={}: {}: {}", mode.label(), connections, kind.label(), detail);
            }
        }
    }

    /** A client has stopped. */
    void clientFinished() {
        finished.countDown();
    }

    /** True when an event that began at {@code start} and ends now belongs to the recorded window. */
    private boolean inWindow(long start, long now) {
        return start >= windowStart && now <= windowEnd;
    }

    // ---- the run ----

    /**
     * Starts the clients, runs {@code warmup} unrecorded and {@code duration} recorded, lets the requests in
     * flight finish (bounded by the timeout), and returns what was measured, with each second of the window.
     *
     * @param progress called about every 500 ms from this thread, or null
     */
    CellResult run(Duration warmup, Duration duration, Consumer<Progress> progress) throws InterruptedException {
        List<InetSocketAddress> sources = load.sourceAddresses();
        List<ClosedLoopClient> clients = new ArrayList<>(connections);
        for (int i = 0; i < connections; i++) {
            InetSocketAddress local = mode == Mode.CLOSE && !sources.isEmpty() ? sources.get(i % sources.size()) : null;
            ClosedLoopClient client = new ClosedLoopClient(this, load.group().next(), local, i);
            clients.add(client);
            client.start();
        }
        long t0 = System.nanoTime();
        long warmEnd = t0 + warmup.toNanos();
        waitReporting("warmup", t0, warmEnd, warmEnd, progress);
        var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long server0 = serverCpuNanos();
        latency.reset();
        connectTime.reset();
        long start = System.nanoTime();
        windowStart = start;
        windowEnd = start + duration.toNanos();
        Histogram lat = new Histogram(3);
        List<CellResult.Second> perSecond = new ArrayList<>();
        Interval last = null;
        long errorsBefore = 0;
        // One interval histogram about every second: a stall or a GC pause shows in its interval, not averaged
        // away. Its bounds are when the histograms were really taken, not the nominal ticks: a late wake-up makes
        // an interval longer (and its rates are divided by its real length), never one interval holding two
        // seconds of responses and the next one empty.
        long from = start;
        while (from < windowEnd) {
            long to = Math.min(from + 1_000_000_000L, windowEnd);
            if (windowEnd - to < 50_000_000L) {
                to = windowEnd; // no sliver of an interval at the end
            }
            waitReporting("run", start, windowEnd, to, progress);
            Histogram h = latency.getIntervalHistogram();
            long taken = System.nanoTime();
            long errorsNow = errorCount();
            // Nothing that ends after the window is recorded: the last interval ends with it, however late taken.
            last = new Interval(from, Math.min(taken, windowEnd), h, errorsBefore);
            lat.add(h);
            perSecond.add(last.second(start, errorsNow));
            errorsBefore = errorsNow;
            from = taken;
        }
        long cpu1 = os.getProcessCpuTime();
        long server1 = serverCpuNanos();
        long end = System.nanoTime();
        running = false;
        // Let each connection finish its request in flight (bounded by the timeout), then force the rest.
        if (!finished.await(timeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
            clients.forEach(ClosedLoopClient::stop);
            finished.await(5, TimeUnit.SECONDS);
        }
        // Responses that ended inside the window but were recorded after its last tick belong to its last second.
        Histogram late = latency.getIntervalHistogram();
        lat.add(late);
        if (last != null) {
            last.latency.add(late);
            perSecond.set(perSecond.size() - 1, last.second(start, errorCount()));
        }
        double seconds = (Math.min(end, windowEnd) - start) / 1e9;
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
                cpuCores, cpuCores < 0 ? -1 : cpuCores / cores, firstError.get(),
                server0 < 0 || server1 < 0 ? null : (server1 - server0) / 1e6, completed.sum(), perSecond);
    }

    /**
     * One interval of the window: its real bounds (System.nanoTime when the previous interval histogram was taken,
     * and when its own was), its latencies, and the error count at its start.
     */
    record Interval(long from, long to, Histogram latency, long errorsAtStart) {
        /**
         * The interval as reported, given the error count at its end: responses and errors per second of its real
         * length, and no latency (null) when no response came in it.
         */
        CellResult.Second second(long windowStart, long errorsAtEnd) {
            double seconds = (to - from) / 1e9;
            long n = latency.getTotalCount();
            return new CellResult.Second(Math.round((from - windowStart) / 1e6) / 1e3, seconds, n / seconds,
                    n == 0 ? null : us(latency, 50), n == 0 ? null : us(latency, 99),
                    (errorsAtEnd - errorsAtStart) / seconds);
        }
    }

    /** The server's CPU time so far, -1 when its pid is unknown or unreadable. */
    private long serverCpuNanos() {
        Long pid = load.serverPid();
        return pid == null ? -1 : ServerCpu.nanos(pid);
    }

    private long errorCount() {
        return errors.values().stream().mapToLong(LongAdder::sum).sum();
    }

    private static double us(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
    }

    /**
     * Waits until {@code until}, reporting progress in the phase that runs from {@code from} to {@code end}.
     */
    private void waitReporting(String phase, long from, long end, long until, Consumer<Progress> progress)
            throws InterruptedException {
        while (true) {
            long now = System.nanoTime();
            if (now >= until) {
                break;
            }
            if (progress != null) {
                progress.accept(new Progress(phase, (now - from) / 1e9, (end - from) / 1e9, seen.sum(), errorCount()));
            }
            // Waiting on the latch doubles as an interruptible, bounded sleep.
            finished.await(Math.min(500_000_000L, until - now), TimeUnit.NANOSECONDS);
        }
    }
}
