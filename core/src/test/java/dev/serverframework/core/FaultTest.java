package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A callback or task that throws costs its connection at most; the server, its workers and others go on. */
class FaultTest {
    private final List<Server> servers = new ArrayList<>();
    private final List<RawClient> clients = new ArrayList<>();
    /** Ids of opened connections, in order. */
    private final List<Long> opened = new CopyOnWriteArrayList<>();
    private final AtomicBoolean failNextOpen = new AtomicBoolean();

    @AfterEach
    void stopServers() throws InterruptedException {
        clients.forEach(RawClient::close);
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
    }

    /** Echoes lines; throws on the line "boom", and in onOpen when {@link #failNextOpen} is set. */
    private Protocol faulty(Protocol.Execution execution) {
        return new LineProtocol("faulty", (c, line) -> {
            if (line.equals("boom")) {
                throw new IllegalStateException("boom on purpose (onData)");
            }
            c.write(line + "\n");
        }) {
            @Override
            public Execution execution() {
                return execution;
            }

            @Override
            public void onOpen(Connection c) {
                opened.add(c.id());
                if (failNextOpen.getAndSet(false)) {
                    throw new IllegalStateException("boom on purpose (onOpen)");
                }
            }
        };
    }

    private Server start(Protocol.Execution execution, int workers) {
        Server s = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .workers(workers).ioThreads(2)
                .protocol(faulty(execution)).build();
        servers.add(s);
        return s.start();
    }

    private RawClient connect(Server server) {
        RawClient c = new RawClient(server.port());
        clients.add(c);
        return c;
    }

    private static void assertServed(RawClient c, String text) {
        assertEquals(text, c.send(text + "\n").readLine());
    }

    @ParameterizedTest
    @EnumSource(Protocol.Execution.class)
    void onDataThatThrowsClosesItsConnectionOnlyAndIsCountedAndLoggedOnce(Protocol.Execution execution) {
        try (StderrCapture log = new StderrCapture()) {
            Server server = start(execution, 2);
            RawClient victim = connect(server);
            RawClient bystander = connect(server);
            assertServed(victim, "v1");
            assertServed(bystander, "b1");

            victim.send("boom\n");
            assertTrue(victim.isClosedByServer(), "the connection whose callback threw is closed");
            Await.until("the failure to be counted", () -> server.statistics().callbackFailures() == 1);
            Await.until("the server to drop the connection", () -> server.count(null) == 1);

            assertServed(bystander, "b2");
            RawClient newcomer = connect(server);
            assertServed(newcomer, "n1");
            assertServed(bystander, "b3");
            assertEquals(1, server.statistics().callbackFailures());

            Await.until("the failure to be logged", () -> log.count("boom on purpose (onData)") >= 1);
            assertEquals(1, log.count("IllegalStateException: boom on purpose (onData)"), "logged once");
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.Execution.class)
    void onOpenThatThrowsClosesItsConnectionOnlyAndIsCounted(Protocol.Execution execution) {
        Server server = start(execution, 2);
        RawClient first = connect(server);
        assertServed(first, "f1");

        failNextOpen.set(true);
        RawClient victim = connect(server);
        assertTrue(victim.isClosedByServer(), "the connection whose onOpen threw is closed");
        assertEquals(1, server.statistics().callbackFailures());
        Await.until("the server to drop the connection", () -> server.count(null) == 1);

        assertServed(first, "f2");
        RawClient newcomer = connect(server);
        assertServed(newcomer, "n1");
        assertEquals(3, opened.size());
        assertEquals(1, server.statistics().callbackFailures());
    }

    @Test
    void taskThatThrowsDoesNotKillTheWorker() throws Exception {
        // One worker: if a throwing task killed it, nothing would be served afterwards.
        Server server = start(Protocol.Execution.WORKER, 1);
        RawClient a = connect(server);
        assertServed(a, "a1");
        long idA = opened.get(0);

        server.task(idA, c -> {
            throw new IllegalStateException("boom on purpose (task)");
        }, null);
        Await.until("the task failure to be counted", () -> server.statistics().callbackFailures() == 1);

        RawClient b = connect(server);
        assertServed(b, "b1");
        long idB = opened.get(opened.size() - 1);
        server.task(idB, c -> c.write("from a task\n"), null);
        assertEquals("from a task", b.readLine());

        // A plain task on the worker that throws: counted by the worker, which goes on.
        Worker worker = server.workerGroup().workers().get(0);
        long failedBefore = worker.statistics().failedTasks();
        worker.execute(() -> {
            throw new IllegalStateException("boom on purpose (worker task)");
        });
        CountDownLatch after = new CountDownLatch(1);
        worker.execute(after::countDown);
        assertTrue(after.await(5, TimeUnit.SECONDS), "the worker runs the next task");
        assertEquals(failedBefore + 1, worker.statistics().failedTasks());

        // A scheduled task that throws: counted, and the worker still runs the next one.
        server.runAfter(Duration.ofMillis(1), () -> {
            throw new IllegalStateException("boom on purpose (runAfter)");
        });
        Await.until("the scheduled failure to be counted", () -> server.statistics().callbackFailures() == 2);
        CountDownLatch scheduled = new CountDownLatch(1);
        server.runAfter(Duration.ofMillis(1), scheduled::countDown);
        assertTrue(scheduled.await(5, TimeUnit.SECONDS));

        assertServed(b, "b2");
        assertTrue(worker.thread().isAlive());
    }

    /** Copies everything written to System.err (where slf4j-simple logs) while open. */
    private static final class StderrCapture implements AutoCloseable {
        private final PrintStream original = System.err;
        private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

        StderrCapture() {
            OutputStream tee = new OutputStream() {
                @Override
                public void write(int b) {
                    synchronized (captured) {
                        captured.write(b);
                    }
                    original.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    synchronized (captured) {
                        captured.write(b, off, len);
                    }
                    original.write(b, off, len);
                }

                @Override
                public void flush() {
                    original.flush();
                }
            };
            System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
        }

        /** Occurrences of {@code text} in what was captured so far. */
        int count(String text) {
            String all;
            synchronized (captured) {
                all = captured.toString(StandardCharsets.UTF_8);
            }
            int n = 0;
            for (int i = all.indexOf(text); i >= 0; i = all.indexOf(text, i + text.length())) {
                n++;
            }
            return n;
        }

        @Override
        public void close() {
            System.setErr(original);
        }
    }
}
