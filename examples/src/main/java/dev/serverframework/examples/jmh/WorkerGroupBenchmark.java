package dev.serverframework.examples.jmh;

import dev.serverframework.core.WorkerGroup;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Compares the framework's {@link WorkerGroup} with Netty's {@link DefaultEventExecutorGroup}, the
 * executor group one would otherwise pass to {@code pipeline.addLast(group, handler)}.
 *
 * <h2>What it measures</h2>
 * <ul>
 *   <li>{@code throughput1Producer} / {@code throughput2Producers} (ops/s, one op = one task <em>run</em>):
 *       each producer thread hands batches of {@value #BATCH} empty tasks to one executor of the group
 *       (the one {@code group.next()} gave it at setup); the last task of a batch marks it done. After
 *       handing over a batch the producer waits, parked, until the batch before it has run, so at most
 *       two batches are in flight: the rate counts tasks run, not tasks queued (give or take one batch
 *       per iteration), and the executor does not go idle at every batch while its producer wakes up,
 *       which would measure the OS's wake-up time rather than the queue. With 2 producers JMH adds the
 *       two threads' rates.</li>
 *   <li>{@code roundTripPingPong} (µs per round trip, average): a Netty NIO event loop
 *       ({@link MultiThreadIoEventLoopGroup} with {@link NioIoHandler}) hands a task to a worker, which
 *       hands a task back to the event loop; as soon as the event loop has it, it starts the next round
 *       trip, {@value #ROUND_TRIPS} in a row. This is the latency of a busy pipeline: the benchmark
 *       thread's own hand-off to and from the event loop is paid once per {@value #ROUND_TRIPS} round
 *       trips.</li>
 *   <li>{@code roundTripSingle} (µs, sampled, with percentiles): one such round trip per invocation,
 *       started by the benchmark thread, so the worker has usually gone to sleep in between: the
 *       latency of an idle pipeline, wake-ups included. The figure includes the benchmark thread's hand-off
 *       to the event loop and back; {@code eventLoopOnlyBaseline} measures exactly that part (the same path
 *       without the worker), so {@code roundTripSingle - eventLoopOnlyBaseline} is the worker's share.</li>
 * </ul>
 * The tasks do nothing, so the figures are the cost of handing work over, not of doing it.
 *
 * <h2>Why one worker</h2>
 * The machine this was written for has 2 cores. With 1 producer and 1 worker both threads have a core
 * each, which is the fair set-up for a hand-off benchmark. With 2 producers one worker still is: it
 * makes the two producers contend on one queue, which is where a multi-producer queue differs from
 * Netty's lock-based {@code LinkedBlockingQueue}; matching workers to producers (2 + 2 threads on 2
 * cores) would mostly measure the OS scheduler. {@code -p workers=2} runs that variant anyway.
 *
 * <h2>How to run</h2>
 * <pre>{@code
 * mvn -B -q -DskipTests package
 * java -jar examples/target/server-framework-examples.jar jmh WorkerGroupBenchmark
 * }</pre>
 * Add e.g. {@code -p impl=workergroup} to run one implementation, or a method name (or a regular
 * expression such as {@code 'WorkerGroupBenchmark.throughput'}) instead of the class name to run only
 * some benchmarks. A full run takes about 4 minutes. Nothing is pinned to a CPU; on a small virtual
 * machine the spread between iterations can be tens of percent, so compare runs made back to back and
 * repeat before drawing conclusions.
 */
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class WorkerGroupBenchmark {
    /** Tasks a producer hands over before it waits for them to run. */
    static final int BATCH = 1000;
    /** Round trips the event loop makes in a row in {@link #roundTripPingPong}. */
    static final int ROUND_TRIPS = 100;

    private static final Runnable NOOP = () -> { };

    /** The executor group under test. */
    @State(Scope.Benchmark)
    public static class GroupState {
        /** The group: {@code workergroup} (the framework's) or {@code netty-default} (Netty's). */
        @Param({"workergroup", "netty-default"})
        public String impl;

        /** Threads in the group. */
        @Param({"1"})
        public int workers;

        EventExecutorGroup group;

        /** Starts the group. */
        @Setup(Level.Trial)
        public void setUp() {
            group = switch (impl) {
                case "workergroup" -> WorkerGroup.builder().threads(workers).namePrefix("bench-worker").build();
                case "netty-default" -> new DefaultEventExecutorGroup(workers);
                default -> throw new IllegalArgumentException("impl: " + impl);
            };
        }

        /** Stops the group. */
        @TearDown(Level.Trial)
        public void tearDown() {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** A batch of tasks whose last task says it has run, and wakes its producer. */
    static final class Batch implements Runnable {
        volatile boolean done = true;
        volatile Thread waiter;

        /** The batch has run: wakes its producer. */
        @Override
        public void run() {
            done = true;
            LockSupport.unpark(waiter);
        }

        void await() {
            while (!done) {
                LockSupport.park(this);
            }
        }
    }

    /**
     * One producer: its executor and its two batches. It hands over batch {@code k}, then waits until
     * batch {@code k - 1} has run, so at most two batches are in flight: the executor never runs dry
     * because its producer is waking up, and what is counted has run, give or take one batch.
     */
    @State(Scope.Thread)
    public static class ProducerState {
        EventExecutor executor;
        private final Batch[] batches = {new Batch(), new Batch()};
        private int next;

        /** Takes the producer's executor from the group. */
        @Setup(Level.Trial)
        public void setUp(GroupState g) {
            executor = g.group.next();
        }

        void runBatch() {
            Thread me = Thread.currentThread();
            Batch batch = batches[next];
            next ^= 1;
            batch.await(); // ran two invocations ago; this returns at once
            batch.waiter = me;
            batch.done = false;
            EventExecutor e = executor;
            for (int i = 1; i < BATCH; i++) {
                e.execute(NOOP);
            }
            e.execute(batch);
            batches[next].await(); // the previous batch
        }

        /** Waits for the batches still in flight. */
        @TearDown(Level.Trial)
        public void tearDown() {
            batches[0].await();
            batches[1].await();
        }
    }

    /** A Netty NIO event loop, the side that hands work to the workers in a server. */
    @State(Scope.Benchmark)
    public static class EventLoopState {
        EventLoopGroup eventLoopGroup;
        EventLoop eventLoop;

        /** Starts the event loop. */
        @Setup(Level.Trial)
        public void setUp() {
            eventLoopGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            eventLoop = eventLoopGroup.next();
        }

        /** Stops the event loop. */
        @TearDown(Level.Trial)
        public void tearDown() {
            eventLoopGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Round trips event loop -> worker -> event loop, started and awaited by the benchmark thread. */
    @State(Scope.Thread)
    public static class RoundTripState {
        EventLoop eventLoop;
        EventExecutor worker;
        Thread waiter;
        volatile boolean done;
        /** Round trips still to make; touched only on the event loop (and before it starts). */
        int remaining;

        /** On the worker: hand the answer back to the event loop. */
        private final Runnable onWorker = () -> eventLoop.execute(this.back);
        /** On the event loop: the request leaves for the worker. */
        private final Runnable start = () -> worker.execute(this.onWorker);
        /** On the event loop: the answer is back; start the next round trip or wake the benchmark thread. */
        private final Runnable back = () -> {
            if (--remaining > 0) {
                worker.execute(this.onWorker);
            } else {
                done = true;
                LockSupport.unpark(waiter);
            }
        };

        /** Pairs the event loop with one worker of the group. */
        @Setup(Level.Trial)
        public void setUp(EventLoopState el, GroupState g) {
            eventLoop = el.eventLoop;
            worker = g.group.next();
            waiter = Thread.currentThread();
        }

        void roundTrips(int n) {
            waiter = Thread.currentThread();
            remaining = n;
            done = false;
            eventLoop.execute(start);
            await();
        }

        private void await() {
            while (!done) {
                LockSupport.park(this);
            }
        }
    }

    /** Baseline state for {@link #eventLoopOnlyBaseline}: no executor group involved. */
    @State(Scope.Thread)
    public static class BaselineState {
        EventLoop eventLoop;
        Thread waiter;
        volatile boolean done;
        private final Runnable signal = () -> {
            done = true;
            LockSupport.unpark(waiter);
        };

        /** Takes the event loop. */
        @Setup(Level.Trial)
        public void setUp(EventLoopState el) {
            eventLoop = el.eventLoop;
        }

        void run() {
            waiter = Thread.currentThread();
            done = false;
            eventLoop.execute(signal);
            while (!done) {
                LockSupport.park(this);
            }
        }
    }

    /** Tasks run per second, one producer. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    @Threads(1)
    public void throughput1Producer(ProducerState p) {
        p.runBatch();
    }

    /** Tasks run per second, two producers on one worker. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    @Threads(2)
    public void throughput2Producers(ProducerState p) {
        p.runBatch();
    }

    /** One round trip event loop to worker and back, in a busy pipeline. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @OperationsPerInvocation(ROUND_TRIPS)
    @Threads(1)
    public void roundTripPingPong(RoundTripState s) {
        s.roundTrips(ROUND_TRIPS);
    }

    /** One round trip in an idle pipeline, wake-ups included. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Threads(1)
    public void roundTripSingle(RoundTripState s) {
        s.roundTrips(1);
    }

    /** The benchmark thread's hand-off to the event loop and back, without a worker: the baseline. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Threads(1)
    public void eventLoopOnlyBaseline(BaselineState s) {
        s.run();
    }
}
