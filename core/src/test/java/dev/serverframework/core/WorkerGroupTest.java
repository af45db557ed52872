package dev.serverframework.core;

import dev.serverframework.core.internal.TransportSupport;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link WorkerGroup} keeps Netty's {@link io.netty.util.concurrent.EventExecutorGroup} contract: it runs
 * pipeline handlers off the I/O loop, deals workers round-robin, runs scheduled tasks, drains its queues
 * on graceful shutdown, survives failing tasks and reports what it did.
 */
class WorkerGroupTest {
    private static final long WAIT_SECONDS = 10;

    private final List<WorkerGroup> groups = new ArrayList<>();
    private final List<EventLoopGroup> ioGroups = new ArrayList<>();
    private final List<CountDownLatch> toRelease = new ArrayList<>();

    @AfterEach
    void shutDown() throws InterruptedException {
        // A test that failed half-way must not leave a worker blocked forever.
        for (CountDownLatch l : toRelease) {
            while (l.getCount() > 0) {
                l.countDown();
            }
        }
        for (EventLoopGroup g : ioGroups) {
            g.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        for (WorkerGroup g : groups) {
            assertTrue(g.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS),
                    "worker group did not terminate");
        }
    }

    private WorkerGroup track(WorkerGroup g) {
        groups.add(g);
        return g;
    }

    private CountDownLatch gate() {
        CountDownLatch l = new CountDownLatch(1);
        toRelease.add(l);
        return l;
    }

    /** Blocks {@code worker} on {@code gate}; returns once the worker is inside the blocking task. */
    private static void block(Worker worker, CountDownLatch gate) throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(1);
        worker.execute(() -> {
            entered.countDown();
            try {
                gate.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(entered.await(WAIT_SECONDS, TimeUnit.SECONDS), "worker never ran the blocking task");
    }

    /** Runs an empty task on {@code executor} and waits for it: everything queued before it has run. */
    private static void drain(EventExecutor executor) throws Exception {
        executor.submit(() -> { }).get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    // ---- (a) a handler in a plain Netty pipeline ----

    /** Records the thread of every event it sees and echoes what it reads. */
    private static final class RecordingEcho extends ChannelInboundHandlerAdapter {
        final Map<Channel, Set<String>> threadsOf;
        final AtomicInteger inactive;

        RecordingEcho(Map<Channel, Set<String>> threadsOf, AtomicInteger inactive) {
            this.threadsOf = threadsOf;
            this.inactive = inactive;
        }

        private void record(ChannelHandlerContext ctx) {
            threadsOf.computeIfAbsent(ctx.channel(), k -> ConcurrentHashMap.newKeySet())
                    .add(Thread.currentThread().getName());
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            record(ctx);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            record(ctx);
            // The write takes over the buffer and releases it once written.
            ctx.writeAndFlush(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            record(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            record(ctx);
            inactive.incrementAndGet();
            ctx.fireChannelInactive();
        }
    }

    /**
     * Rule: {@code pipeline.addLast(workerGroup, handler)} works in a plain ServerBootstrap on either
     * transport; every event of one channel reaches the handler on the same worker thread, and the echo
     * written from the worker reaches the real client.
     */
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING", "NIO"})
    void runsPipelineHandlersOfAPlainNettyServerOnOneWorkerPerChannel(Transport transport) throws Exception {
        assumeTrue(TransportSupport.isAvailable(transport),
                () -> transport + " is unavailable here: " + TransportSupport.unavailabilityReason(transport));
        WorkerGroup workers = track(WorkerGroup.of(3));
        EventLoopGroup io = new MultiThreadIoEventLoopGroup(1, TransportSupport.ioHandlerFactory(transport));
        ioGroups.add(io);
        Map<Channel, Set<String>> threadsOf = new ConcurrentHashMap<>();
        AtomicInteger inactive = new AtomicInteger();
        Channel listener = new ServerBootstrap()
                .group(io)
                .channel(TransportSupport.serverChannelClass(transport))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(workers, new RecordingEcho(threadsOf, inactive));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        int port = ((InetSocketAddress) listener.localAddress()).getPort();

        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                clients.add(new RawClient(port));
            }
            for (int round = 0; round < 20; round++) {
                for (int i = 0; i < clients.size(); i++) {
                    clients.get(i).send("client " + i + " round " + round + "\n");
                }
                for (int i = 0; i < clients.size(); i++) {
                    assertEquals("client " + i + " round " + round, clients.get(i).readLine());
                }
            }
        } finally {
            clients.forEach(RawClient::close);
        }
        Await.until("all six channels to go inactive", () -> inactive.get() == 6);
        listener.close().sync();

        assertEquals(6, threadsOf.size());
        Set<String> used = new HashSet<>();
        for (Set<String> names : threadsOf.values()) {
            assertEquals(1, names.size(), "events of one channel ran on several threads: " + names);
            String name = names.iterator().next();
            assertTrue(name.matches("sf-worker-\\d+"), "handler ran on " + name);
            used.add(name);
        }
        // Netty takes one worker per pipeline from next(): six channels spread over all three workers.
        assertEquals(Set.of("sf-worker-0", "sf-worker-1", "sf-worker-2"), used);
    }

    // ---- (b) round-robin ----

    /** Rule: next() deals every worker in turn, and iteration lists each worker once in index order. */
    @Test
    void nextDealsWorkersRoundRobin() {
        WorkerGroup group = track(WorkerGroup.of(4));
        List<Worker> first = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            first.add(group.next());
        }
        assertEquals(4, new HashSet<>(first).size(), "one cycle of next() must reach four distinct workers");
        Map<Worker, Integer> dealt = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            Worker w = group.next();
            assertSame(first.get(i % 4), w, "call " + i + " broke the rotation");
            dealt.merge(w, 1, Integer::sum);
        }
        assertEquals(4, dealt.size());
        dealt.values().forEach(n -> assertEquals(1000, n));

        List<EventExecutor> iterated = new ArrayList<>();
        group.iterator().forEachRemaining(iterated::add);
        assertEquals(new ArrayList<EventExecutor>(group.workers()), iterated);
        for (int i = 0; i < 4; i++) {
            assertEquals(i, group.workers().get(i).index());
            assertSame(group, group.workers().get(i).parent());
        }
        assertEquals(4, group.size());
    }

    // ---- (c) scheduled tasks ----

    /** Rule: schedule(delay) runs once on the worker it was scheduled on, no earlier than the delay. */
    @Test
    void scheduleRunsOnTheWorkerAfterTheDelay() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(2));
        Worker worker = group.next();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        long start = System.nanoTime();
        ScheduledFuture<Long> f = worker.schedule(() -> {
            ranOn.set(Thread.currentThread());
            return System.nanoTime();
        }, 50, TimeUnit.MILLISECONDS);
        long ranAt = f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertTrue(ranAt - start >= TimeUnit.MILLISECONDS.toNanos(50),
                "ran after " + (ranAt - start) / 1_000_000 + " ms, before its 50 ms delay");
        assertSame(worker.thread(), ranOn.get());
        assertTrue(f.isDone());
        assertFalse(f.isCancelled());
    }

    /** Rule: scheduleAtFixedRate repeats on its worker until cancelled, and never runs after cancel. */
    @Test
    void scheduleAtFixedRateRepeatsUntilCancelled() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(1));
        Worker worker = group.next();
        AtomicInteger runs = new AtomicInteger();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        ScheduledFuture<?> f = worker.scheduleAtFixedRate(() -> {
            threads.add(Thread.currentThread());
            runs.incrementAndGet();
        }, 5, 5, TimeUnit.MILLISECONDS);
        Await.until("five runs", () -> runs.get() >= 5);
        // Cancel on the worker itself, so no run can be half-way through when the count is read.
        int atCancel = worker.submit(() -> {
            assertTrue(f.cancel(false));
            return runs.get();
        }).get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertTrue(f.isCancelled());
        // Ten periods later, on the same worker, nothing more has run.
        worker.schedule(() -> { }, 50, TimeUnit.MILLISECONDS).get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(atCancel, runs.get(), "the task ran after it was cancelled");
        assertEquals(Set.of(worker.thread()), threads);
    }

    /** Rule: a scheduled task cancelled before its deadline never runs. */
    @Test
    void cancelledScheduleNeverRuns() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(1));
        Worker worker = group.next();
        AtomicBoolean ran = new AtomicBoolean();
        ScheduledFuture<?> f = worker.schedule(() -> ran.set(true), 30, TimeUnit.MILLISECONDS);
        assertTrue(f.cancel(false));
        assertTrue(f.isCancelled());
        // A later deadline on the same worker: when it has run, the cancelled one's deadline has passed.
        worker.schedule(() -> { }, 100, TimeUnit.MILLISECONDS).get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertFalse(ran.get(), "a cancelled task ran");
    }

    /** Rule: a task on a worker can schedule on its own worker; the scheduled task runs there too. */
    @Test
    void scheduleFromInsideTheWorkerRunsOnThatWorker() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(2));
        Worker worker = group.next();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        AtomicLong scheduledAt = new AtomicLong();
        AtomicLong ranAt = new AtomicLong();
        worker.execute(() -> {
            assertTrue(worker.inEventLoop());
            scheduledAt.set(System.nanoTime());
            worker.schedule(() -> {
                ranAt.set(System.nanoTime());
                ranOn.set(Thread.currentThread());
                done.countDown();
            }, 20, TimeUnit.MILLISECONDS);
        });
        assertTrue(done.await(WAIT_SECONDS, TimeUnit.SECONDS), "the task scheduled from the worker never ran");
        assertSame(worker.thread(), ranOn.get());
        assertTrue(ranAt.get() - scheduledAt.get() >= TimeUnit.MILLISECONDS.toNanos(20), "ran before its delay");
    }

    // ---- (d) graceful shutdown ----

    /**
     * Rule: graceful shutdown runs every task already queued, even those stuck behind a blocked task;
     * the termination future completes; a terminated worker rejects new tasks.
     */
    @Test
    void gracefulShutdownRunsEveryQueuedTaskThenRejects() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(2));
        Worker worker = group.next();
        CountDownLatch gate = gate();
        block(worker, gate);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 10_000; i++) {
            worker.execute(ran::incrementAndGet);
        }
        Future<?> termination = group.shutdownGracefully(0, 10, TimeUnit.SECONDS);
        assertSame(group.terminationFuture(), termination);
        assertTrue(group.isShuttingDown());
        assertFalse(termination.isDone(), "terminated while a worker still had 10,000 tasks queued");
        gate.countDown();

        assertTrue(termination.await(WAIT_SECONDS, TimeUnit.SECONDS), "the group did not terminate");
        assertTrue(termination.isSuccess());
        assertEquals(10_000, ran.get(), "graceful shutdown dropped queued tasks");
        assertTrue(group.isTerminated());
        assertTrue(group.isShutdown());
        assertTrue(group.awaitTermination(1, TimeUnit.SECONDS));
        for (Worker w : group.workers()) {
            assertTrue(w.isTerminated());
            w.thread().join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertFalse(w.thread().isAlive(), w + " still runs after termination");
            assertThrows(RejectedExecutionException.class, () -> w.execute(() -> { }));
        }
        assertThrows(RejectedExecutionException.class, () -> group.execute(() -> { }));
    }

    /**
     * Rule: around termination every execute() either runs its task or throws
     * RejectedExecutionException; none is accepted and then silently dropped. A producer keeps handing
     * the worker one task at a time while it shuts down, so offers land just before, during and after
     * its final drain. (Before the fix, about 3% of rounds lost an accepted task.)
     */
    @Test
    void everyAcceptedTaskRunsEvenWhenOfferedAsTheWorkerTerminates() throws Exception {
        int lostRounds = 0;
        for (int round = 0; round < 500; round++) {
            WorkerGroup group = WorkerGroup.of(1);
            Worker worker = group.next();
            AtomicLong ran = new AtomicLong();
            AtomicLong accepted = new AtomicLong();
            CountDownLatch producing = new CountDownLatch(1);
            Thread producer = new Thread(() -> {
                producing.countDown();
                while (true) {
                    try {
                        worker.execute(ran::incrementAndGet);
                    } catch (RejectedExecutionException e) {
                        return;
                    }
                    accepted.incrementAndGet();
                    // One task in flight at a time, so the queue is often empty and the worker may end.
                    while (ran.get() < accepted.get() && !worker.isTerminated()) {
                        Thread.onSpinWait();
                    }
                    if (ran.get() < accepted.get()) {
                        return;
                    }
                }
            }, "test-producer");
            producer.start();
            assertTrue(producing.await(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(group.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(WAIT_SECONDS, TimeUnit.SECONDS));
            producer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertFalse(producer.isAlive());
            if (accepted.get() != ran.get()) {
                lostRounds++;
            }
        }
        assertEquals(0, lostRounds, "rounds in which execute() accepted a task that never ran");
    }

    // ---- (e) failing tasks ----

    /** Rule: a task that throws is logged and counted, and the worker goes on with the next tasks. */
    @Test
    void aTaskThatThrowsIsLoggedAndCountedAndTheWorkerGoesOn() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(1));
        Worker worker = group.next();
        long completedBefore = worker.statistics().completedTasks();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream originalErr = System.err;
        // slf4j-simple writes to whatever System.err is at the time of the log call.
        System.setErr(new PrintStream(new TeeStream(originalErr, captured), true, StandardCharsets.UTF_8));
        try {
            CountDownLatch after = new CountDownLatch(3);
            worker.execute(after::countDown);
            worker.execute(() -> {
                throw new IllegalStateException("boom from a test task");
            });
            worker.execute(after::countDown);
            worker.execute(() -> {
                throw new AssertionError("an Error is contained too");
            });
            worker.execute(after::countDown);
            assertTrue(after.await(WAIT_SECONDS, TimeUnit.SECONDS), "the worker stopped after a task threw");
            Await.until("the failures to be logged", () -> {
                String log = captured.toString(StandardCharsets.UTF_8);
                return log.contains("boom from a test task") && log.contains("an Error is contained too");
            });
        } finally {
            System.setErr(originalErr);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("sf-worker-0"), "the log line should name the worker: " + log);
        assertEquals(2, worker.statistics().failedTasks());
        Await.until("five tasks counted", () -> worker.statistics().completedTasks() - completedBefore == 5);
        // And it still takes work.
        assertEquals("alive", worker.submit(() -> "alive").get(WAIT_SECONDS, TimeUnit.SECONDS));
    }

    /** Copies everything written to two streams. */
    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public synchronized void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }

    // ---- (f) statistics ----

    /** Rule: queueDepth shows the tasks waiting behind a blocked task; completedTasks counts every run. */
    @Test
    void queueDepthAndCompletedTasksAreExact() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(2));
        Worker worker = group.workers().get(1);
        Worker other = group.workers().get(0);
        assertEquals(0, worker.statistics().completedTasks());
        CountDownLatch gate = gate();
        block(worker, gate);
        for (int i = 0; i < 100; i++) {
            worker.execute(() -> { });
        }
        assertEquals(100, worker.queueDepth());
        assertEquals(0, other.queueDepth(), "tasks of one worker must not show on another");
        gate.countDown();
        drain(worker);
        Await.until("queue to empty", () -> worker.queueDepth() == 0);
        // The blocking task, 100 tasks and the drain task.
        Await.until("102 completed tasks", () -> worker.statistics().completedTasks() == 102);
        assertEquals(0, worker.statistics().failedTasks());
        assertEquals(0, other.statistics().completedTasks());
        assertEquals(0, worker.statistics().measuredWaits(), "wait time is not measured unless asked for");
    }

    /**
     * Rule: with measureWaitTime(true) each task's wait in the queue is measured; the wait of a task
     * stuck behind a blocked one is at least as long as the worker was held; the listener hears each
     * wait on the worker thread; turning it off stops measuring.
     */
    @Test
    void measuresWaitTimeWhenAskedAndTellsTheListener() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(1));
        Worker worker = group.next();
        group.measureWaitTime(true);
        CountDownLatch gate = gate();
        block(worker, gate);
        for (int i = 0; i < 10; i++) {
            worker.execute(() -> { });
        }
        // After the last enqueue: every task has waited at least from here until the release.
        long queuedAt = System.nanoTime();
        // Hold the worker for a measurable while, without sleeping: wait for a clock to move on.
        long held = TimeUnit.MILLISECONDS.toNanos(20);
        Await.until("20 ms to pass", () -> System.nanoTime() - queuedAt >= held);
        gate.countDown();
        drain(worker);
        // Measuring was on when the blocker was queued too: 1 blocker + 10 tasks + 1 drain task.
        assertEquals(12, worker.statistics().measuredWaits());
        assertTrue(worker.statistics().maxWaitNanos() >= held, "max wait " + worker.statistics().maxWaitNanos() + " ns < held " + held);
        assertTrue(worker.statistics().totalWaitNanos() >= worker.statistics().maxWaitNanos());

        List<Long> heard = new CopyOnWriteArrayList<>();
        Set<Thread> heardOn = ConcurrentHashMap.newKeySet();
        group.waitTimeListener(nanos -> {
            heard.add(nanos);
            heardOn.add(Thread.currentThread());
        });
        for (int i = 0; i < 5; i++) {
            worker.execute(() -> { });
        }
        drain(worker);
        assertEquals(6, heard.size(), "listener heard " + heard);
        assertTrue(heard.stream().allMatch(n -> n >= 0));
        assertEquals(Set.of(worker.thread()), heardOn);
        assertEquals(18, worker.statistics().measuredWaits());

        group.waitTimeListener(null);
        group.measureWaitTime(false);
        drain(worker);
        assertEquals(18, worker.statistics().measuredWaits(), "measured although measuring was turned off");
        assertEquals(6, heard.size());
    }

    // ---- (g) builder callbacks ----

    /** Rule: onThreadStart runs once in each worker's own thread before that worker runs any task. */
    @Test
    void onThreadStartRunsInEachWorkerBeforeItsTasks() throws Exception {
        ThreadLocal<String> initialised = new ThreadLocal<>();
        Map<Integer, Thread> startedOn = new ConcurrentHashMap<>();
        AtomicInteger starts = new AtomicInteger();
        WorkerGroup group = track(WorkerGroup.builder().threads(3).namePrefix("init-test")
                .onThreadStart(w -> {
                    starts.incrementAndGet();
                    startedOn.put(w.index(), Thread.currentThread());
                    initialised.set("ready " + w.index());
                }).build());
        // Queued at once: the threads may still be starting, yet every task must see the initialisation.
        List<java.util.concurrent.Future<String>> seen = new ArrayList<>();
        for (Worker w : group.workers()) {
            seen.add(w.submit(initialised::get));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals("ready " + i, seen.get(i).get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertSame(group.workers().get(i).thread(), startedOn.get(i));
            assertEquals("init-test-" + i, group.workers().get(i).thread().getName());
        }
        assertEquals(3, starts.get());
    }

    /** Rule: onIdle runs on a worker's own thread when it has run out of work. */
    @Test
    void onIdleRunsOnTheWorkerWhenItRunsOutOfWork() throws Exception {
        AtomicReference<Worker> worker = new AtomicReference<>();
        AtomicBoolean taskDone = new AtomicBoolean();
        CountDownLatch idleAfterTask = new CountDownLatch(1);
        AtomicReference<String> wrongThread = new AtomicReference<>();
        WorkerGroup group = track(WorkerGroup.builder().threads(2)
                .onIdle(w -> {
                    if (w.thread() != Thread.currentThread()) {
                        wrongThread.set(Thread.currentThread().getName() + " for " + w);
                    }
                    if (w == worker.get() && taskDone.get()) {
                        idleAfterTask.countDown();
                    }
                }).build());
        Worker w = group.workers().get(1);
        worker.set(w);
        w.execute(() -> taskDone.set(true));
        assertTrue(idleAfterTask.await(WAIT_SECONDS, TimeUnit.SECONDS), "onIdle did not run after the work ran out");
        assertNull(wrongThread.get(), "onIdle ran on another thread");
    }

    // ---- (h) settings ----

    /** Rule: a thread count out of range fails at once, naming "workers" and the range. */
    @Test
    void invalidThreadCountFailsNamingTheSettingAndRange() {
        for (int bad : new int[] {0, -1, 1025}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WorkerGroup.builder().threads(bad));
            assertTrue(e.getMessage().contains("workers"), e.getMessage());
            assertTrue(e.getMessage().contains("1") && e.getMessage().contains("1024"), e.getMessage());
            assertTrue(e.getMessage().contains(String.valueOf(bad)), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> WorkerGroup.of(bad));
            IllegalArgumentException s = assertThrows(IllegalArgumentException.class,
                    () -> Server.builder().workers(bad));
            assertTrue(s.getMessage().contains("workers") && s.getMessage().contains("1024"), s.getMessage());
        }
        // The bounds themselves are valid.
        WorkerGroup one = track(WorkerGroup.of(1));
        assertEquals(1, one.size());
        assertNotNull(WorkerGroup.builder().threads(1024));
    }

    /** Rule: currentWorker() tells which worker runs the calling thread, and null elsewhere. */
    @Test
    void currentWorkerNamesTheWorkerOfTheCallingThread() throws Exception {
        WorkerGroup group = track(WorkerGroup.of(3));
        assertNull(group.currentWorker());
        for (Worker w : group.workers()) {
            assertSame(w, w.submit(group::currentWorker).get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(w.submit(() -> w.inEventLoop()).get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertFalse(w.inEventLoop());
        }
        List<String> names = new ArrayList<>();
        for (Worker w : group.workers()) {
            names.add(w.thread().getName());
        }
        Collections.sort(names);
        assertEquals(List.of("sf-worker-0", "sf-worker-1", "sf-worker-2"), names);
    }
}
