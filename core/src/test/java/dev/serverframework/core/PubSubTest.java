package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Publish/subscribe within one process: servers sharing a {@link PubSub}, connection and worker
 * subscriptions, order per publisher, what the engine hears, and the PubSub's life with its servers.
 *
 * <p>The test protocol's lines: {@code sub CH} subscribes the connection (answers {@code subscribed CH}),
 * {@code unsub CH}, {@code pub CH TEXT} publishes (answers {@code published N}); a message reaches a
 * subscribed client as {@code message CH TEXT}.
 */
class PubSubTest {
    private final List<Server> servers = new ArrayList<>();
    private final List<RawClient> clients = new ArrayList<>();
    private final Map<Long, Map<String, Subscription>> subscriptions = new ConcurrentHashMap<>();

    @AfterEach
    void stop() throws InterruptedException {
        gate.countDown();
        clients.forEach(RawClient::close);
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
    }

    private Server start(PubSub pubSub) {
        Server s = Server.builder().port(0).bindAddress("127.0.0.1").workers(2).ioThreads(1).shutdownHook(false)
                .pubSub(pubSub).protocol(new LineProtocol("pubsub", this::onLine)).build();
        servers.add(s);
        return s.start();
    }

    private void onLine(Connection c, String line) {
        String[] words = line.split(" ", 3);
        Map<String, Subscription> mine = subscriptions.computeIfAbsent(c.id(), id -> new ConcurrentHashMap<>());
        switch (words[0]) {
            case "sub" -> {
                mine.put(words[1], c.server().subscribe(c, words[1],
                        (target, m) -> target.write("message " + m.channel() + " " + m.text() + "\n")));
                c.write("subscribed " + words[1] + "\n");
            }
            case "subthrow" -> {
                mine.put(words[1], c.server().subscribe(c, words[1], (target, m) -> {
                    throw new IllegalStateException("a subscriber's own failure");
                }));
                c.write("subscribed " + words[1] + "\n");
            }
            case "subslow" -> {
                mine.put(words[1], c.server().subscribe(c, words[1], (target, m) -> awaitGate()));
                c.write("subscribed " + words[1] + "\n");
            }
            case "unsub" -> {
                mine.remove(words[1]).cancel();
                c.write("unsubscribed " + words[1] + "\n");
            }
            case "pub" -> c.write("published "
                    + c.server().publish(words[1], words[2].getBytes(StandardCharsets.UTF_8)) + "\n");
            default -> c.write("unknown\n");
        }
    }

    /** Holds a slow subscriber's deliveries until the test opens the gate. */
    private final CountDownLatch gate = new CountDownLatch(1);

    private void awaitGate() {
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private RawClient client(Server s) {
        RawClient c = new RawClient(s.port());
        clients.add(c);
        return c;
    }

    @Test
    void aMessagePublishedOnOneServerReachesTheSubscribersOfEveryServerSharingThePubSub() {
        PubSub shared = PubSub.inProcess();
        Server a = start(shared);
        Server b = start(shared);
        RawClient onA = client(a).send("sub news\n");
        RawClient onB = client(b).send("sub news\n");
        RawClient other = client(b).send("sub sport\n");
        assertEquals("subscribed news", onA.readLine());
        assertEquals("subscribed news", onB.readLine());
        assertEquals("subscribed sport", other.readLine());

        RawClient publisher = client(a).send("pub news hello there\n");
        assertEquals("published 2", publisher.readLine());
        assertEquals("message news hello there", onA.readLine());
        assertEquals("message news hello there", onB.readLine());
        // A publisher subscribed to its own channel gets the message after its callback's reply: the
        // delivery is a task queued behind the callback on the connection's executor.
        other.send("pub sport goal\n");
        assertEquals("published 1", other.readLine());
        assertEquals("message sport goal", other.readLine());
        assertEquals(2, shared.published());
        assertEquals(0, shared.received());
        assertEquals(PubSubEngine.State.LOCAL, shared.state());
    }

    @Test
    void messagesOfOnePublisherArriveInOrderAndUnsubscribeStopsThem() {
        Server s = start(PubSub.inProcess());
        RawClient subscriber = client(s).send("sub n\n");
        assertEquals("subscribed n", subscriber.readLine());
        RawClient publisher = client(s);
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            burst.append("pub n ").append(i).append('\n');
        }
        publisher.send(burst.toString());
        for (int i = 0; i < 500; i++) {
            assertEquals("message n " + i, subscriber.readLine());
            assertEquals("published 1", publisher.readLine());
        }
        subscriber.send("unsub n\n");
        assertEquals("unsubscribed n", subscriber.readLine());
        publisher.send("pub n after\n");
        assertEquals("published 0", publisher.readLine());
        // Nothing for the subscriber but the answer to its own next line.
        subscriber.send("pub other x\n");
        assertEquals("published 0", subscriber.readLine());
    }

    @Test
    void aClosedConnectionsSubscriptionsEndAndTheEngineHearsOfTheLastOne() {
        RecordingEngine engine = new RecordingEngine();
        PubSub pubSub = PubSub.over(engine);
        Server s = start(pubSub);
        RawClient first = client(s).send("sub room\n");
        RawClient second = client(s).send("sub room\n");
        assertEquals("subscribed room", first.readLine());
        assertEquals("subscribed room", second.readLine());
        assertEquals(List.of("subscribe room"), engine.calls);
        assertEquals(2, pubSub.subscribers("room"));

        first.close();
        Await.until("the closed connection's subscription ends", () -> pubSub.subscribers("room") == 1);
        assertEquals(List.of("subscribe room"), engine.calls);
        second.reset();
        Await.until("the engine hears the last subscription end",
                () -> engine.calls.equals(List.of("subscribe room", "unsubscribe room")));
        assertFalse(pubSub.hasSubscribers("room"));
    }

    @Test
    void messagesFromTheEngineReachLocalSubscribersAndLocalOnesGoToTheEngine() {
        RecordingEngine engine = new RecordingEngine();
        PubSub pubSub = PubSub.over(engine);
        Server s = start(pubSub);
        RawClient subscriber = client(s).send("sub feed\n");
        assertEquals("subscribed feed", subscriber.readLine());

        engine.receiver.get().received("feed", "from afar".getBytes(StandardCharsets.UTF_8));
        assertEquals("message feed from afar", subscriber.readLine());
        assertEquals(1, pubSub.received());

        subscriber.send("pub feed from here\n");
        assertEquals("published 1", subscriber.readLine());
        assertEquals("message feed from here", subscriber.readLine());
        assertEquals("publish feed from here", engine.calls.get(engine.calls.size() - 1));

        engine.receiver.get().dropped(3);
        assertEquals(3, pubSub.dropped());
    }

    @Test
    void aWorkerSubscriptionRunsOneMessageAtATimeInOrderAndSurvivesAThrowingTask() throws Exception {
        Server s = start(PubSub.inProcess());
        List<String> seen = new CopyOnWriteArrayList<>();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        Subscription sub = s.subscribe("jobs", m -> {
            if (running.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            try {
                if (m.text().equals("boom")) {
                    throw new IllegalStateException("a subscriber's own failure");
                }
                seen.add(m.text());
            } finally {
                running.decrementAndGet();
            }
        });
        Thread[] publishers = new Thread[2];
        for (int p = 0; p < publishers.length; p++) {
            String name = "p" + p;
            publishers[p] = new Thread(() -> {
                for (int i = 0; i < 2_000; i++) {
                    s.publish("jobs", (name + " " + i).getBytes(StandardCharsets.UTF_8));
                }
            });
            publishers[p].start();
        }
        for (Thread t : publishers) {
            t.join(10_000);
            assertFalse(t.isAlive(), "publishing never blocks");
        }
        s.publish("jobs", "boom".getBytes(StandardCharsets.UTF_8));
        s.publish("jobs", "after".getBytes(StandardCharsets.UTF_8));
        Await.until("every message is seen", () -> seen.size() == 4_001);
        assertEquals("after", seen.get(4_000));
        assertEquals(0, overlaps.get());
        for (int p = 0; p < publishers.length; p++) {
            String prefix = "p" + p + " ";
            List<String> mine = seen.stream().filter(x -> x.startsWith(prefix)).toList();
            for (int i = 0; i < mine.size(); i++) {
                assertEquals(prefix + i, mine.get(i), "publisher " + p + "'s order");
            }
        }
        assertTrue(sub.isActive());
        sub.cancel();
        assertFalse(sub.isActive());
        assertFalse(s.pubSub().hasSubscribers("jobs"));
    }

    @Test
    void theEngineStartsWithTheFirstServerAndClosesWithTheLast() throws InterruptedException {
        RecordingEngine engine = new RecordingEngine();
        PubSub pubSub = PubSub.over(engine);
        Server a = start(pubSub);
        Server b = start(pubSub);
        Subscription onA = a.subscribe("x", m -> { });
        assertEquals(1, engine.starts.get());
        a.stop();
        a.awaitTermination();
        assertFalse(onA.isActive(), "a stopped server's worker subscriptions end");
        assertEquals(0, engine.closes.get());
        b.stop();
        b.awaitTermination();
        assertEquals(1, engine.closes.get());
        Server late = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).pubSub(pubSub)
                .protocol(new LineProtocol("late", (c, l) -> { })).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, late::start);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertFalse(late.isRunning(), "a server whose PubSub cannot start is not left listening");
        assertEquals(-1, late.port());
        assertEquals(1, engine.starts.get());
        assertEquals(1, engine.closes.get());
    }

    @Test
    void aSubscriberThatFallsTooFarBehindMissesMessagesInsteadOfFillingTheHeap() throws Exception {
        Server s = start(PubSub.inProcess());
        CountDownLatch stuck = new CountDownLatch(1);
        AtomicInteger seen = new AtomicInteger();
        s.subscribe("firehose", m -> {
            try {
                stuck.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            seen.incrementAndGet();
        });
        int total = PubSub.MAX_QUEUED_DELIVERIES + 500;
        int handed = 0;
        for (int i = 0; i < total; i++) {
            handed += s.publish("firehose", new byte[]{(byte) i});
        }
        stuck.countDown();
        long overflowed = s.pubSub().overflowed();
        assertTrue(overflowed >= 499, "missed while " + PubSub.MAX_QUEUED_DELIVERIES + " waited: " + overflowed);
        assertEquals(total, handed + overflowed, "every message either handed over or counted as missed");
        int expected = handed;
        Await.until("what was handed over is delivered", () -> seen.get() == expected);
    }

    @Test
    void aConnectionHandlerThatThrowsClosesItsConnectionAsAnEachTaskWouldAndTheOthersStillGetTheMessage() {
        Server s = start(PubSub.inProcess());
        RawClient failing = client(s).send("subthrow alarm\n");
        RawClient fine = client(s).send("sub alarm\n");
        assertEquals("subscribed alarm", failing.readLine());
        assertEquals("subscribed alarm", fine.readLine());
        long failuresBefore = s.statistics().callbackFailures();
        client(s).send("pub alarm fire\n");
        assertEquals("message alarm fire", fine.readLine());
        assertTrue(failing.isClosedByServer(), "the failing subscriber's connection is closed");
        Await.until("the failure is counted", () -> s.statistics().callbackFailures() == failuresBefore + 1);
        Await.until("its subscription ends with it", () -> s.pubSub().subscribers("alarm") == 1);
    }

    @Test
    void aConnectionThatFallsTooFarBehindIsClosedRatherThanLeftToMissMessages() {
        Server s = start(PubSub.inProcess());
        RawClient slow = client(s).send("subslow ticker\n");
        assertEquals("subscribed ticker", slow.readLine());
        // Its handler is held at the gate, so deliveries pile up on its executor. The connection has no
        // output waiting (it is writable): the executor may only be busy, so the limit is ten times higher.
        int hardLimit = 10 * PubSub.MAX_QUEUED_DELIVERIES;
        int handed = 0;
        for (int i = 0; i <= hardLimit + 1; i++) {
            handed += s.publish("ticker", new byte[]{(byte) i});
        }
        // hardLimit wait (one more if the first is already running): the next overflows and ends the
        // subscription, so nothing after it is handed over or counted.
        assertTrue(handed == hardLimit || handed == hardLimit + 1, "handed over: " + handed);
        assertEquals(1, s.pubSub().overflowed());
        assertFalse(s.pubSub().hasSubscribers("ticker"), "the overflowing subscription ended");
        assertTrue(slow.isClosedByServer(), "the slow subscriber's connection is closed");
        gate.countDown();
    }

    @Test
    void aWorkerSubscriptionNeedsAStartedServer() {
        Server s = Server.builder().port(0).shutdownHook(false).protocol(new LineProtocol("x", (c, l) -> { })).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.subscribe("ch", m -> { }));
        assertTrue(e.getMessage().contains("start"), e.getMessage());
    }

    /** An engine that records what the PubSub tells it, and lets a test play the other processes. */
    private static final class RecordingEngine implements PubSubEngine {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final AtomicReference<Receiver> receiver = new AtomicReference<>();
        final AtomicInteger starts = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void start(Receiver r) {
            starts.incrementAndGet();
            receiver.set(r);
        }

        @Override
        public void subscribe(String channel) {
            calls.add("subscribe " + channel);
        }

        @Override
        public void unsubscribe(String channel) {
            calls.add("unsubscribe " + channel);
        }

        @Override
        public void publish(String channel, byte[] message) {
            calls.add("publish " + channel + " " + new String(message, StandardCharsets.UTF_8));
        }

        @Override
        public State state() {
            return closes.get() > 0 ? State.CLOSED : State.CONNECTED;
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }
}
