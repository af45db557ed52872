package dev.serverframework.examples.bench;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.PubSubEngine;
import dev.serverframework.core.redis.RedisEngine;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code bench pubsub}: cross-instance delivery latency through Redis. N {@link PubSub}s, each over its own
 * {@link RedisEngine} (its own two Redis connections, as N processes would have), subscribe to one channel;
 * the first publishes at a constant rate, and every other instance records each message's latency from its
 * intended send time (so a stall is counted for every message it holds up, as wrk2 does) to the moment its
 * subscriber task runs. Without {@code --redis} a {@code redis-server} is started on a free port for the run.
 */
@Command(name = "pubsub", mixinStandardHelpOptions = true,
        description = "Cross-instance publish/subscribe through Redis: N engines in this JVM, one publishing at "
                + "a constant rate; latency from the intended send time to each remote subscriber's task.")
public final class PubSubBenchCommand implements Callable<Integer> {
    private static final String CHANNEL = "bench.pubsub";

    @Option(names = "--redis", paramLabel = "URI",
            description = "The Redis to go through, e.g. redis://127.0.0.1:6379 (default: start a redis-server "
                    + "on a free port for the run).")
    String redis;

    @Option(names = "--instances", defaultValue = "3",
            description = "Engines, each with its own Redis connections: one publisher, the others "
                    + "subscribers (default: ${DEFAULT-VALUE}).")
    int instances;

    @Option(names = "--rate", defaultValue = "10000", description = "Messages published per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--size", defaultValue = "64", description = "Bytes per message, at least 16 (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = {"-d", "--duration"}, defaultValue = "10s", description = "Measured time (default: ${DEFAULT-VALUE}).")
    String duration;

    @Option(names = "--warmup", defaultValue = "5s", description = "Unrecorded warm-up (default: ${DEFAULT-VALUE}).")
    String warmup;

    /** Runs the benchmark and prints one table; 1 when a message was lost or Redis could not be reached. */
    @Override
    public Integer call() throws Exception {
        if (instances < 2 || rate < 1 || size < 16) {
            System.err.println("bench pubsub: --instances must be at least 2, --rate at least 1, --size at least 16");
            return 2;
        }
        Duration measured = OptionValues.duration(duration, "--duration");
        Duration warm = OptionValues.duration(warmup, "--warmup");
        Process ownRedis = null;
        String uri = redis;
        if (uri == null) {
            int port = freePort();
            ownRedis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            uri = "redis://127.0.0.1:" + port;
        }
        List<PubSub> engines = new ArrayList<>();
        List<ExecutorService> subscriberThreads = new ArrayList<>();
        try {
            List<Histogram> histograms = new ArrayList<>();
            for (int i = 0; i < instances; i++) {
                PubSub p = PubSub.over(RedisEngine.create(uri));
                p.start();
                engines.add(p);
            }
            if (!awaitConnected(engines, Duration.ofSeconds(10))) {
                System.err.println("bench pubsub: cannot reach Redis at " + uri);
                return 1;
            }
            Run run = new Run(System.nanoTime() + warm.toNanos());
            for (int i = 1; i < instances; i++) {
                Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
                histograms.add(h);
                ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-subscriber"));
                subscriberThreads.add(thread);
                engines.get(i).subscribe(CHANNEL, thread, m -> run.record(h, ByteBuffer.wrap(m.bytes())));
            }
            // Subscriptions travel to Redis asynchronously: the warm-up covers them.
            long sent = publish(engines.get(0), warm.plus(measured), run);
            long expected = run.measuredSent * (instances - 1);
            // What is still on its way through Redis gets a few seconds to arrive; what does not is lost.
            long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (run.measuredDelivered.get() < expected && System.nanoTime() < drainDeadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            for (ExecutorService t : subscriberThreads) {
                t.shutdown();
                t.awaitTermination(10, TimeUnit.SECONDS);
            }
            long measuredSent = run.measuredSent;
            Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
            histograms.forEach(all::add);
            System.out.printf(Locale.ROOT, "pub/sub through %s: %d instances, %,d msg/s of %d bytes, %s measured "
                            + "after %s warm-up%n", uri, instances, rate, size, duration, warmup);
            System.out.printf(Locale.ROOT, "published %,d (%,d measured), dropped %,d; deliveries %,d of %,d expected%n",
                    sent, measuredSent, engines.get(0).dropped(), all.getTotalCount(), expected);
            System.out.printf(Locale.ROOT, "latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f%n",
                    ms(all.getValueAtPercentile(50)), ms(all.getValueAtPercentile(90)),
                    ms(all.getValueAtPercentile(99)), ms(all.getValueAtPercentile(99.9)), ms(all.getMaxValue()));
            return all.getTotalCount() == expected ? 0 : 1;
        } finally {
            engines.forEach(PubSub::close);
            subscriberThreads.forEach(ExecutorService::shutdownNow);
            if (ownRedis != null) {
                ownRedis.destroy();
                ownRedis.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Publishes at the rate until the end, each message stamped with its intended send time and its phase. */
    private long publish(PubSub publisher, Duration total, Run run) {
        long start = System.nanoTime();
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        long end = start + total.toNanos();
        long n = 0;
        byte[] padding = new byte[size - 16];
        for (long intended = start; intended < end; intended = start + n * interval) {
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            ByteBuffer b = ByteBuffer.allocate(size).putLong(intended).putLong(n).put(padding);
            publisher.publish(CHANNEL, b.array());
            if (intended >= run.measuredFrom) {
                run.measuredSent++;
            }
            n++;
        }
        return n;
    }

    private static boolean awaitConnected(List<PubSub> engines, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (engines.stream().allMatch(p -> p.state() == PubSubEngine.State.CONNECTED)) {
                return true;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        return false;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** The phase boundary, and what the publisher counted. */
    private static final class Run {
        final long measuredFrom;
        /** Publisher thread only; read after it has finished. */
        long measuredSent;
        final AtomicLong measuredDelivered = new AtomicLong();

        Run(long measuredFrom) {
            this.measuredFrom = measuredFrom;
        }

        /** On an instance's subscriber thread: one delivery, recorded when it was sent in the measured phase. */
        void record(Histogram h, ByteBuffer message) {
            long intended = message.getLong(0);
            if (intended >= measuredFrom) {
                h.recordValue(Math.max(0, System.nanoTime() - intended));
                measuredDelivered.incrementAndGet();
            }
        }
    }
}
