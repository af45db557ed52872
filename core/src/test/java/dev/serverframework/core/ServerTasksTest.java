package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import io.netty.util.concurrent.ScheduledFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Server's task API: {@code each}, {@code eachBlocking}, {@code task}, {@code runAfter},
 * {@code runEvery}, {@code count} and the broadcast statistics, against real connections.
 *
 * <p>The test protocol is a line protocol whose connections start in the service "lobby"; the line
 * {@code join X} switches the connection to service X with {@link Connection#switchProtocol}, whose
 * {@code onOpen} answers {@code joined X <id> <worker thread>}. Other lines go to {@link #command}.
 */
class ServerTasksTest {
    private static final long WAIT_SECONDS = 10;

    private final List<Server> servers = new ArrayList<>();
    private final List<RawClient> clients = new ArrayList<>();
    private final List<CountDownLatch> gates = new ArrayList<>();
    private final Map<String, Protocol> rooms = new ConcurrentHashMap<>();
    /** What the current test does with a line that is not {@code join X}; called on the connection's executor. */
    private volatile BiConsumer<Connection, String> command = (c, line) -> {
        if (line.equals("ping")) {
            c.write("pong\n");
        }
    };
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        // A test that failed half-way must not leave a worker blocked.
        for (CountDownLatch g : gates) {
            while (g.getCount() > 0) {
                g.countDown();
            }
        }
        clients.forEach(RawClient::close);
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
    }

    // ---- fixtures ----

    private Protocol room(String service) {
        return rooms.computeIfAbsent(service, s -> new LineProtocol(s, this::onLine) {
            @Override
            public void onOpen(Connection c) {
                c.write("joined " + s + " " + c.id() + " " + Thread.currentThread().getName() + "\n");
            }
        });
    }

    private void onLine(Connection c, String line) {
        if (line.startsWith("join ")) {
            c.switchProtocol(room(line.substring(5)));
        } else {
            command.accept(c, line);
        }
    }

    private Server start(int workers) {
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .workers(workers).ioThreads(1).idleTimeout(Duration.ZERO)
                .protocol(room("lobby"))
                .build().start();
        servers.add(server);
        return server;
    }

    /** A connected client, the id of its connection and the worker thread its callbacks run on. */
    private static final class Peer {
        final RawClient client;
        final long id;
        final String worker;

        Peer(RawClient client, long id, String worker) {
            this.client = client;
            this.id = id;
            this.worker = worker;
        }

        String readLine() {
            return client.readLine();
        }

        void send(String line) {
            client.send(line + "\n");
        }
    }

    /** Connects a client and moves it to {@code service} (stays in the lobby when that is "lobby"). */
    private Peer connect(String service) {
        RawClient client = new RawClient(server.port());
        clients.add(client);
        String[] hello = client.readLine().split(" ");
        assertEquals("lobby", hello[1]);
        if (!service.equals("lobby")) {
            client.send("join " + service + "\n");
            hello = client.readLine().split(" ");
            assertEquals(service, hello[1], String.join(" ", hello));
        }
        return new Peer(client, Long.parseLong(hello[2]), hello[3]);
    }

    private List<Peer> connect(String service, int n) {
        List<Peer> peers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            peers.add(connect(service));
        }
        return peers;
    }

    private static Set<Long> ids(List<Peer> peers) {
        return peers.stream().map(p -> p.id).collect(Collectors.toSet());
    }

    /** The next line a peer reads is "pong": nothing else was written to it before. */
    private static void assertNothingElseArrived(Peer p) {
        p.send("ping");
        assertEquals("pong", p.readLine(), "connection " + p.id + " received something it should not have");
    }

    private CountDownLatch gate() {
        CountDownLatch g = new CountDownLatch(1);
        gates.add(g);
        return g;
    }

    /** Blocks the worker of connection {@code id} on {@code gate}; returns when the worker is inside. */
    private void blockWorkerOf(long id, CountDownLatch gate) throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(1);
        server.task(id, c -> {
            entered.countDown();
            try {
                gate.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, null);
        assertTrue(entered.await(WAIT_SECONDS, TimeUnit.SECONDS), "the blocking task never ran");
    }

    /** The server's {@link Connection} of a peer, fetched through the public task API. */
    private Connection connectionOf(Peer p) throws Exception {
        CompletableFuture<Connection> c = new CompletableFuture<>();
        server.task(p.id, c::complete, () -> c.completeExceptionally(new AssertionError("connection " + p.id + " is gone")));
        return c.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** Waits for a scheduled task to end. */
    private static void awaitDone(ScheduledFuture<?> f) throws InterruptedException {
        assertTrue(f.await(WAIT_SECONDS, TimeUnit.SECONDS), "a scheduled task did not end in time");
    }

    /** Whether the calling thread is the one that runs {@code c}'s callbacks. */
    private static boolean onExecutorOf(Connection c) {
        return c.executor().inEventLoop() && c.executor() instanceof Worker w && w.thread() == Thread.currentThread();
    }

    // ---- each ----

    /**
     * Rule: each(origin, service, ...) reaches exactly the open connections of that service but the
     * origin, runs each task on the target's own worker, returns how many it targeted, and runs onFinish
     * once, after every task, on the origin's worker.
     */
    @Test
    void eachReachesExactlyTheOtherConnectionsOfTheServiceOnTheirWorkers() throws Exception {
        start(3);
        List<Peer> a = connect("room-a", 3);
        List<Peer> b = connect("room-b", 2);
        Peer lobby = connect("lobby");
        Peer origin = a.get(0);

        Set<Long> reached = ConcurrentHashMap.newKeySet();
        AtomicInteger tasksRun = new AtomicInteger();
        AtomicInteger offExecutor = new AtomicInteger();
        AtomicInteger finishes = new AtomicInteger();
        AtomicInteger tasksAtFinish = new AtomicInteger(-1);
        AtomicReference<String> finishThread = new AtomicReference<>();
        long broadcastsBefore = server.statistics().broadcasts();
        long targetsBefore = server.statistics().broadcastTargets();
        command = (c, line) -> {
            if (line.equals("ping")) {
                c.write("pong\n");
            } else if (line.equals("tell room-a")) {
                int n = server.each(c, "room-a", t -> {
                    if (!onExecutorOf(t)) {
                        offExecutor.incrementAndGet();
                    }
                    reached.add(t.id());
                    tasksRun.incrementAndGet();
                    t.write("hello from " + c.id() + "\n");
                }, () -> {
                    tasksAtFinish.set(tasksRun.get());
                    finishThread.set(Thread.currentThread().getName());
                    finishes.incrementAndGet();
                    c.write("finished\n");
                });
                c.write("targeted " + n + "\n");
            }
        };
        origin.send("tell room-a");
        assertEquals("targeted 2", origin.readLine());
        assertEquals("finished", origin.readLine());
        for (Peer p : a.subList(1, 3)) {
            assertEquals("hello from " + origin.id, p.readLine());
        }
        assertEquals(ids(a.subList(1, 3)), reached);
        assertEquals(0, offExecutor.get(), "a task ran off its connection's worker");
        assertEquals(1, finishes.get());
        assertEquals(2, tasksAtFinish.get(), "onFinish ran before every task had run");
        assertEquals(origin.worker, finishThread.get(), "onFinish runs on the origin's worker");
        // Other services, the lobby and the origin got nothing.
        for (Peer p : b) {
            assertNothingElseArrived(p);
        }
        assertNothingElseArrived(lobby);
        assertNothingElseArrived(origin);
        assertEquals(1, finishes.get(), "onFinish ran more than once");
        assertEquals(broadcastsBefore + 1, server.statistics().broadcasts());
        assertEquals(targetsBefore + 2, server.statistics().broadcastTargets());
    }

    /** Rule: a null service reaches every open connection, of every service, but the origin. */
    @Test
    void eachWithNullServiceReachesAllConnections() throws Exception {
        start(2);
        List<Peer> all = new ArrayList<>();
        all.addAll(connect("room-a", 2));
        all.addAll(connect("room-b", 2));
        all.add(connect("lobby"));

        // From the test thread, without an origin: all five.
        Set<Long> reached = ConcurrentHashMap.newKeySet();
        CountDownLatch finished = new CountDownLatch(1);
        int n = server.each(null, null, t -> {
            reached.add(t.id());
            t.write("to all\n");
        }, finished::countDown);
        assertEquals(5, n);
        assertTrue(finished.await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(ids(all), reached);
        for (Peer p : all) {
            assertEquals("to all", p.readLine());
        }

        // With an origin: everyone else.
        Peer origin = all.get(2);
        Set<Long> reached2 = ConcurrentHashMap.newKeySet();
        CountDownLatch finished2 = new CountDownLatch(1);
        assertEquals(4, server.each(connectionOf(origin), null, t -> reached2.add(t.id()), finished2::countDown));
        assertTrue(finished2.await(WAIT_SECONDS, TimeUnit.SECONDS));
        Set<Long> expected = new HashSet<>(ids(all));
        expected.remove(origin.id);
        assertEquals(expected, reached2);
    }

    /**
     * Rule: a connection that closes after each() picked it is skipped (its task does not run) and
     * onFinish still fires exactly once; with no target at all, onFinish fires at once and 0 is returned.
     */
    @Test
    void eachSkipsConnectionsClosedMeanwhileAndStillFinishes() throws Exception {
        start(2);
        List<Peer> a = connect("room-a", 2);
        Peer leaving = a.get(0);
        Peer staying = a.get(1);
        CountDownLatch gate = gate();
        blockWorkerOf(leaving.id, gate);

        Set<Long> reached = ConcurrentHashMap.newKeySet();
        AtomicInteger finishes = new AtomicInteger();
        CountDownLatch finished = new CountDownLatch(1);
        int n = server.each(null, "room-a", t -> {
            reached.add(t.id());
            t.write("news\n");
        }, () -> {
            finishes.incrementAndGet();
            finished.countDown();
        });
        assertEquals(2, n, "both connections were open when each() was called");
        // The task for `leaving` waits behind the blocked worker; its client goes away meanwhile. A reset,
        // not a FIN: the server reads a FIN as a half-close and keeps the connection for its replies.
        leaving.client.reset();
        Await.until("the server to see the close", () -> server.count("room-a") == 1);
        gate.countDown();

        assertTrue(finished.await(WAIT_SECONDS, TimeUnit.SECONDS), "onFinish never ran");
        assertEquals("news", staying.readLine());
        assertEquals(Set.of(staying.id), reached, "the task ran for a closed connection");
        assertNothingElseArrived(staying);
        assertEquals(1, finishes.get());

        CountDownLatch emptyFinished = new CountDownLatch(1);
        AtomicInteger emptyTasks = new AtomicInteger();
        assertEquals(0, server.each(null, "nobody-here", t -> emptyTasks.incrementAndGet(),
                emptyFinished::countDown));
        assertTrue(emptyFinished.await(WAIT_SECONDS, TimeUnit.SECONDS), "onFinish must run with no targets too");
        assertEquals(0, emptyTasks.get());
    }

    /** Rule: the short forms of each() reach the service (without and with an origin left out) and need no nulls. */
    @Test
    void eachShortFormsReachTheServiceWithoutOnFinish() throws Exception {
        start(2);
        List<Peer> a = connect("room-a", 3);
        Peer other = connect("room-b");

        assertEquals(3, server.each("room-a", t -> t.write("to room-a\n")));
        for (Peer p : a) {
            assertEquals("to room-a", p.readLine());
        }
        Peer origin = a.get(0);
        assertEquals(2, server.each(connectionOf(origin), "room-a", t -> t.write("from " + origin.id + "\n")));
        for (Peer p : a.subList(1, 3)) {
            assertEquals("from " + origin.id, p.readLine());
        }
        assertNothingElseArrived(origin);
        assertNothingElseArrived(other);
    }

    /**
     * Rule (as documented on each()): what onFinish writes to the origin arrives after the replies to the
     * messages the origin sent later, because each() returns at once; eachBlocking keeps the replies in the
     * order of the requests.
     */
    @Test
    void onFinishRepliesFollowLaterRepliesButEachBlockingKeepsRequestOrder() throws Exception {
        start(2);
        Peer origin = connect("room-a");
        Peer target = connect("room-a");
        for (int tries = 0; target.worker.equals(origin.worker) && tries < 8; tries++) {
            target = connect("room-a");
        }
        assertFalse(target.worker.equals(origin.worker), "no connection landed on the other worker");
        command = (c, line) -> {
            switch (line) {
                case "ping" -> c.write("pong\n");
                case "tell" -> server.each(c, "room-a", t -> t.write("told\n"), () -> c.write("tell done\n"));
                case "tell and wait" -> {
                    AtomicInteger ran = new AtomicInteger();
                    server.eachBlocking(c, "room-a", t -> {
                        t.write("told\n");
                        ran.incrementAndGet();
                    });
                    c.write("tell done " + ran.get() + "\n");
                }
                default -> c.write("unknown\n");
            }
        };
        // A target's worker is busy, so the broadcast cannot finish before the origin's next message.
        CountDownLatch gate = gate();
        blockWorkerOf(target.id, gate);
        origin.client.send("tell\nping\n");
        assertEquals("pong", origin.readLine(), "the later request is answered first");
        gate.countDown();
        assertEquals("tell done", origin.readLine());

        // eachBlocking returns only once the target's task ran (its worker is held until the test lets it go),
        // and the reply written after it still comes before the next request's.
        CountDownLatch gate2 = gate();
        blockWorkerOf(target.id, gate2);
        origin.client.send("tell and wait\nping\n");
        gate2.countDown();
        assertEquals("tell done 1", origin.readLine(), "eachBlocking answers in request order, after its tasks");
        assertEquals("pong", origin.readLine());
    }

    // ---- eachBlocking ----

    /**
     * Rule: eachBlocking called from a thread that is no worker returns only once every task has run,
     * even when one target's worker is busy, and returns the number targeted.
     */
    @Test
    void eachBlockingFromAPlainThreadReturnsOnlyAfterEveryTask() throws Exception {
        start(2);
        List<Peer> a = connect("room-a", 4);
        connect("room-b");
        Peer busy = a.get(0);
        long notBehindTheBlock = a.stream().filter(p -> !p.worker.equals(busy.worker)).count();
        CountDownLatch gate = gate();
        blockWorkerOf(busy.id, gate);

        AtomicInteger ran = new AtomicInteger();
        AtomicInteger offExecutor = new AtomicInteger();
        AtomicInteger ranAtReturn = new AtomicInteger(-1);
        AtomicInteger returned = new AtomicInteger(-1);
        AtomicBoolean hasReturned = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            int n = server.eachBlocking(null, "room-a", t -> {
                if (!onExecutorOf(t)) {
                    offExecutor.incrementAndGet();
                }
                ran.incrementAndGet();
            });
            ranAtReturn.set(ran.get());
            returned.set(n);
            hasReturned.set(true);
        }, "test-caller");
        caller.start();
        Await.until("the tasks on the free worker to run", () -> ran.get() == notBehindTheBlock);
        assertFalse(hasReturned.get(), "eachBlocking returned while a task was still waiting");
        gate.countDown();
        caller.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertFalse(caller.isAlive(), "eachBlocking never returned");
        assertEquals(4, returned.get());
        assertEquals(4, ranAtReturn.get(), "eachBlocking returned before every task had run");
        assertEquals(0, offExecutor.get());

        // Straight from the test thread as well.
        AtomicInteger again = new AtomicInteger();
        assertEquals(4, server.eachBlocking(null, "room-a", t -> again.incrementAndGet()));
        assertEquals(4, again.get());
        assertEquals(0, server.eachBlocking(null, "nobody-here", t -> again.incrementAndGet()));
    }

    /**
     * Rule: eachBlocking called inside a protocol callback (on a worker) runs the tasks of targets
     * pinned to that same worker and to other workers, and returns only when all have run.
     */
    @Test
    void eachBlockingFromACallbackReachesTargetsOnTheSameAndOtherWorkers() throws Exception {
        start(2);
        List<Peer> a = connect("room-a", 6);
        Map<String, List<Peer>> byWorker = a.stream().collect(Collectors.groupingBy(p -> p.worker));
        assertEquals(2, byWorker.size(), "six connections over two workers use both: " + byWorker.keySet());
        Peer origin = byWorker.values().stream().filter(l -> l.size() >= 2).findFirst().orElseThrow().get(0);

        Set<Long> reached = ConcurrentHashMap.newKeySet();
        AtomicInteger sameWorker = new AtomicInteger();
        AtomicInteger otherWorker = new AtomicInteger();
        AtomicInteger offExecutor = new AtomicInteger();
        command = (c, line) -> {
            if (line.equals("gather")) {
                Worker self = server.workerGroup().currentWorker();
                AtomicInteger ran = new AtomicInteger();
                int n = server.eachBlocking(c, "room-a", t -> {
                    if (!onExecutorOf(t)) {
                        offExecutor.incrementAndGet();
                    }
                    (t.executor() == self ? sameWorker : otherWorker).incrementAndGet();
                    reached.add(t.id());
                    ran.incrementAndGet();
                });
                c.write("gathered " + n + " ran " + ran.get() + "\n");
            }
        };
        origin.send("gather");
        assertEquals("gathered 5 ran 5", origin.readLine());
        Set<Long> expected = new HashSet<>(ids(a));
        expected.remove(origin.id);
        assertEquals(expected, reached);
        assertEquals(byWorker.get(origin.worker).size() - 1, sameWorker.get());
        assertEquals(6 - byWorker.get(origin.worker).size(), otherWorker.get());
        assertTrue(sameWorker.get() > 0 && otherWorker.get() > 0);
        assertEquals(0, offExecutor.get(), "a task ran off its connection's worker");
    }

    /**
     * Rule: two workers calling eachBlocking at the same moment, each targeting connections pinned to
     * the other, both finish: neither waits forever for the other's worker.
     */
    @Test
    void twoWorkersInEachBlockingAtOnceDoNotDeadlock() throws Exception {
        start(2);
        List<Peer> a = connect("room-a", 6);
        Map<String, List<Peer>> byWorker = a.stream().collect(Collectors.groupingBy(p -> p.worker));
        assertEquals(2, byWorker.size());
        List<List<Peer>> groups = new ArrayList<>(byWorker.values());
        Peer first = groups.get(0).get(0);
        Peer second = groups.get(1).get(0);

        CyclicBarrier together = new CyclicBarrier(2);
        AtomicInteger ran = new AtomicInteger();
        command = (c, line) -> {
            if (line.equals("gather")) {
                try {
                    // Both workers are inside their callbacks before either starts to broadcast.
                    together.await(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (Exception e) {
                    c.write("barrier failed " + e + "\n");
                    return;
                }
                int n = server.eachBlocking(c, null, t -> ran.incrementAndGet());
                c.write("gathered " + n + "\n");
            }
        };
        for (int round = 0; round < 20; round++) {
            first.send("gather");
            second.send("gather");
            assertEquals("gathered 5", first.readLine(), "round " + round);
            assertEquals("gathered 5", second.readLine(), "round " + round);
        }
        assertEquals(20 * 2 * 5, ran.get());
    }

    /** Rule: eachBlocking on an I/O event loop (a protocol that runs there) throws IllegalStateException. */
    @Test
    void eachBlockingOnAnIoLoopThrows() throws Exception {
        AtomicReference<String> thread = new AtomicReference<>();
        AtomicInteger eachTargets = new AtomicInteger(-1);
        Protocol onIoLoop = new LineProtocol("io", (c, line) -> {
            thread.set(Thread.currentThread().getName());
            // each() does not block, so it is allowed here.
            eachTargets.set(c.server().each(c, null, t -> { }, null));
            try {
                c.server().eachBlocking(c, null, t -> { });
                c.write("no exception\n");
            } catch (IllegalStateException e) {
                c.write("refused: " + e.getMessage() + "\n");
            }
        }) {
            @Override
            public Execution execution() {
                return Execution.IO_LOOP;
            }
        };
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .workers(1).ioThreads(1).idleTimeout(Duration.ZERO).protocol(onIoLoop).build().start();
        servers.add(server);
        RawClient client = new RawClient(server.port());
        clients.add(client);
        client.send("go\n");
        String reply = client.readLine();
        assertTrue(reply.startsWith("refused: ") && reply.contains("I/O event loop"), reply);
        assertTrue(thread.get().startsWith("sf-io"), "the IO_LOOP protocol ran on " + thread.get());
        assertEquals(0, eachTargets.get());
        // The connection is still usable: the refusal is the caller's error, not the connection's.
        client.send("go\n");
        assertTrue(client.readLine().startsWith("refused: "));
    }

    // ---- task ----

    /** Rule: task(id, ...) runs on the open connection's own worker, and the fallback does not run. */
    @Test
    void taskRunsOnTheConnectionsExecutorWhenOpen() throws Exception {
        start(3);
        connect("lobby");
        Peer target = connect("lobby");
        AtomicReference<String> ranOn = new AtomicReference<>();
        AtomicBoolean onExecutor = new AtomicBoolean();
        AtomicBoolean fallback = new AtomicBoolean();
        server.task(target.id, c -> {
            ranOn.set(Thread.currentThread().getName());
            onExecutor.set(onExecutorOf(c));
            c.write("task for " + c.id() + "\n");
        }, () -> fallback.set(true));
        assertEquals("task for " + target.id, target.readLine());
        assertEquals(target.worker, ranOn.get());
        assertTrue(onExecutor.get());
        assertNothingElseArrived(target);
        assertFalse(fallback.get(), "the fallback ran for an open connection");
    }

    /** Rule: task(id, ...) with an id no connection has runs the fallback on a worker, not the task. */
    @Test
    void taskRunsTheFallbackForAnUnknownId() throws Exception {
        start(2);
        AtomicBoolean ran = new AtomicBoolean();
        AtomicReference<String> fallbackThread = new AtomicReference<>();
        CountDownLatch fellBack = new CountDownLatch(1);
        server.task(Long.MAX_VALUE, c -> ran.set(true), () -> {
            fallbackThread.set(Thread.currentThread().getName());
            fellBack.countDown();
        });
        assertTrue(fellBack.await(WAIT_SECONDS, TimeUnit.SECONDS), "fallback never ran");
        assertTrue(fallbackThread.get().startsWith("sf-worker-"), fallbackThread.get());
        assertFalse(ran.get());
        // No fallback: nothing happens, nothing throws.
        server.task(Long.MAX_VALUE, c -> ran.set(true), null);
    }

    /**
     * Rule: task(id, ...) for a connection that has closed, before the call or while the task waited in
     * its worker's queue, runs the fallback and never the task. Ids are never reused, so a late task
     * cannot reach a newer connection.
     */
    @Test
    void taskRunsTheFallbackWhenTheConnectionClosed() throws Exception {
        start(2);
        // Closed before the call.
        Peer gone = connect("lobby");
        gone.client.close();
        Await.until("the close to be seen", () -> server.count(null) == 0);
        Peer newcomer = connect("lobby");
        assertTrue(newcomer.id != gone.id, "a connection id was reused");
        AtomicInteger tasks = new AtomicInteger();
        CountDownLatch fellBack = new CountDownLatch(1);
        server.task(gone.id, c -> tasks.incrementAndGet(), fellBack::countDown);
        assertTrue(fellBack.await(WAIT_SECONDS, TimeUnit.SECONDS));

        // Closed while the task waited behind a busy worker.
        CountDownLatch gate = gate();
        blockWorkerOf(newcomer.id, gate);
        CountDownLatch fellBack2 = new CountDownLatch(1);
        AtomicReference<String> fallbackThread = new AtomicReference<>();
        server.task(newcomer.id, c -> tasks.incrementAndGet(), () -> {
            fallbackThread.set(Thread.currentThread().getName());
            fellBack2.countDown();
        });
        newcomer.client.reset(); // a reset ends it at once; a FIN would wait for the worker's replies
        Await.until("the close to be seen", () -> server.count(null) == 0);
        gate.countDown();
        assertTrue(fellBack2.await(WAIT_SECONDS, TimeUnit.SECONDS), "fallback never ran");
        assertTrue(fallbackThread.get().startsWith("sf-worker-"), "the fallback runs on a worker: " + fallbackThread.get());
        assertEquals(0, tasks.get(), "a task ran for a closed connection");
    }

    // ---- runAfter / runEvery ----

    /** Rule: runAfter runs the task once on a worker, no earlier than the delay. */
    @Test
    void runAfterRunsOnceAfterTheDelay() throws Exception {
        start(1);
        AtomicInteger runs = new AtomicInteger();
        AtomicLong ranAt = new AtomicLong();
        AtomicReference<String> thread = new AtomicReference<>();
        long start = System.nanoTime();
        ScheduledFuture<?> f = server.runAfter(Duration.ofMillis(50), () -> {
            ranAt.set(System.nanoTime());
            thread.set(Thread.currentThread().getName());
            runs.incrementAndGet();
        });
        awaitDone(f);
        assertTrue(f.isSuccess());
        assertEquals(1, runs.get());
        assertTrue(ranAt.get() - start >= TimeUnit.MILLISECONDS.toNanos(50),
                "ran " + (ranAt.get() - start) / 1_000_000 + " ms after the call, before its 50 ms delay");
        assertEquals("sf-worker-0", thread.get());
        // Later than its deadline on the one worker: it has not run a second time.
        awaitDone(server.runAfter(Duration.ofMillis(100), () -> { }));
        assertEquals(1, runs.get());
    }

    /** Rule: a runAfter cancelled before its delay never runs. */
    @Test
    void runAfterCanBeCancelled() throws Exception {
        start(1);
        AtomicBoolean ran = new AtomicBoolean();
        ScheduledFuture<?> f = server.runAfter(Duration.ofMillis(30), () -> ran.set(true));
        assertTrue(f.cancel(false));
        assertTrue(f.isCancelled());
        // A later deadline on the single worker: when it has run, the cancelled deadline has passed.
        awaitDone(server.runAfter(Duration.ofMillis(100), () -> { }));
        assertFalse(ran.get(), "a cancelled runAfter ran");
    }

    /** Rule: runEvery(period, n) runs exactly n times, then stops by itself. */
    @Test
    void runEveryWithRepetitionsRunsExactlyThatManyTimes() throws Exception {
        start(1);
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = server.runEvery(Duration.ofMillis(5), 3, runs::incrementAndGet);
        Await.until("the schedule to end", f::isDone);
        assertEquals(3, runs.get());
        // Ten periods later it still ran three times.
        awaitDone(server.runAfter(Duration.ofMillis(50), () -> { }));
        assertEquals(3, runs.get());

        AtomicInteger once = new AtomicInteger();
        ScheduledFuture<?> single = server.runEvery(Duration.ofMillis(1), 1, once::incrementAndGet);
        Await.until("the single run to end", single::isDone);
        awaitDone(server.runAfter(Duration.ofMillis(20), () -> { }));
        assertEquals(1, once.get());
    }

    /** Rule: runEvery(period, 0) repeats until cancelled, then never runs again; bad arguments fail fast. */
    @Test
    void runEveryForeverRunsUntilCancelled() throws Exception {
        start(1);
        AtomicInteger runs = new AtomicInteger();
        Set<String> threads = ConcurrentHashMap.newKeySet();
        ScheduledFuture<?> f = server.runEvery(Duration.ofMillis(2), 0, () -> {
            threads.add(Thread.currentThread().getName());
            runs.incrementAndGet();
        });
        Await.until("ten runs", () -> runs.get() >= 10);
        assertFalse(f.isDone(), "a forever schedule ended by itself");
        assertTrue(f.cancel(false));
        // The single worker runs this after any run in progress at the cancel.
        awaitDone(server.runAfter(Duration.ZERO, () -> { }));
        int atCancel = runs.get();
        awaitDone(server.runAfter(Duration.ofMillis(30), () -> { }));
        assertEquals(atCancel, runs.get(), "ran after it was cancelled");
        assertEquals(Set.of("sf-worker-0"), threads);

        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> server.runEvery(Duration.ZERO, 1, () -> { }));
        assertTrue(zero.getMessage().contains("period"), zero.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> server.runEvery(Duration.ofMillis(1), -1, () -> { }));
        assertTrue(negative.getMessage().contains("repetitions"), negative.getMessage());
    }

    /** Rule: a runEvery task that throws is counted and keeps its schedule. */
    @Test
    void runEveryKeepsItsScheduleWhenTheTaskThrows() throws Exception {
        start(1);
        AtomicInteger runs = new AtomicInteger();
        long failuresBefore = server.statistics().callbackFailures();
        ScheduledFuture<?> f = server.runEvery(Duration.ofMillis(2), 4, () -> {
            runs.incrementAndGet();
            throw new IllegalStateException("scheduled task failure (expected by the test)");
        });
        Await.until("the schedule to end", f::isDone);
        assertEquals(4, runs.get());
        assertEquals(failuresBefore + 4, server.statistics().callbackFailures());
    }

    // ---- count and statistics ----

    /** Rule: count(service) and count(null) follow opens, service switches and closes. */
    @Test
    void countTracksOpensSwitchesAndCloses() throws Exception {
        start(2);
        assertEquals(0, server.count(null));
        assertEquals(0, server.count("lobby"));
        List<Peer> lobby = connect("lobby", 3);
        assertEquals(3, server.count("lobby"));
        assertEquals(3, server.count(null));
        List<Peer> a = connect("room-a", 2);
        assertEquals(3, server.count("lobby"), "switched connections leave the lobby");
        assertEquals(2, server.count("room-a"));
        assertEquals(5, server.count(null));
        assertEquals(0, server.count("nobody-here"));

        a.get(0).client.close();
        Await.until("room-a to drop to 1", () -> server.count("room-a") == 1);
        assertEquals(4, server.count(null));
        assertEquals(3, server.count("lobby"));
        for (Peer p : lobby) {
            p.client.close();
        }
        Await.until("the lobby to empty", () -> server.count("lobby") == 0);
        assertEquals(1, server.count(null));
        a.get(1).client.close();
        Await.until("every connection to close", () -> server.count(null) == 0);
        assertEquals(0, server.count("room-a"));
    }

    /** Rule: every each/eachBlocking call counts one broadcast and adds its targets. */
    @Test
    void broadcastStatisticsMoveWithEachCall() throws Exception {
        start(2);
        connect("room-a", 3);
        connect("room-b", 1);
        ServerStatistics stats = server.statistics();
        assertEquals(0, stats.broadcasts());
        assertEquals(0, stats.broadcastTargets());

        CountDownLatch done = new CountDownLatch(1);
        server.each(null, "room-a", t -> { }, done::countDown);
        assertTrue(done.await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(1, stats.broadcasts());
        assertEquals(3, stats.broadcastTargets());

        server.eachBlocking(null, null, t -> { });
        assertEquals(2, stats.broadcasts());
        assertEquals(7, stats.broadcastTargets());

        server.each(null, "nobody-here", t -> { }, null);
        assertEquals(3, stats.broadcasts());
        assertEquals(7, stats.broadcastTargets());
    }
}
