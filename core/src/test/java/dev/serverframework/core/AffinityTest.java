package dev.serverframework.core;

import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A connection's callbacks run on one worker, one at a time, in order, while other connections are busy. */
class AffinityTest {
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    @Test
    void thousandMessagesOnOneConnectionRunInOrderAndNeverConcurrently() throws Exception {
        Map<Long, AtomicInteger> inFlight = new ConcurrentHashMap<>();
        Map<Long, Integer> lastSeen = new ConcurrentHashMap<>();
        Map<Long, String> threadOf = new ConcurrentHashMap<>();
        AtomicInteger violations = new AtomicInteger();
        server = Server.builder().port(0).bindAddress("127.0.0.1").workers(4).ioThreads(2)
                .shutdownHook(false)
                .protocol(new LineProtocol("seq", (c, line) -> {
                    AtomicInteger n = inFlight.computeIfAbsent(c.id(), k -> new AtomicInteger());
                    if (n.incrementAndGet() != 1) {
                        violations.incrementAndGet();
                    }
                    String previousThread = threadOf.putIfAbsent(c.id(), Thread.currentThread().getName());
                    if (previousThread != null && !previousThread.equals(Thread.currentThread().getName())) {
                        violations.incrementAndGet();
                    }
                    int seq = Integer.parseInt(line);
                    Integer last = lastSeen.put(c.id(), seq);
                    if (last != null && last + 1 != seq) {
                        violations.incrementAndGet();
                    }
                    // Work long enough for the next messages to queue up behind this one.
                    long until = System.nanoTime() + 20_000;
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    n.decrementAndGet();
                    c.write(seq + "\n");
                }))
                .build().start();

        List<RawClient> clients = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            clients.add(new RawClient(server.port()));
        }
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            burst.append(i).append('\n');
        }
        for (RawClient c : clients) {
            c.send(burst.toString());
        }
        for (RawClient c : clients) {
            for (int i = 0; i < 1000; i++) {
                assertEquals(String.valueOf(i), c.readLine());
            }
            c.close();
        }
        assertEquals(0, violations.get(), "callbacks overlapped, changed thread or ran out of order");
        assertEquals(6, threadOf.size());
        assertTrue(threadOf.values().stream().allMatch(t -> t.startsWith("sf-worker-")), threadOf.toString());
    }
}
