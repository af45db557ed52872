package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expect;
import static dev.serverframework.examples.kv.KvTestSupport.expectReply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The caps on partial input (Redis's client-query-buffer-limit) over real sockets: the connection over its
 * own cap, or the one that would pass the total, gets Redis's protocol error and is closed; the others are
 * served; the shared count never passes the total cap and goes back to 0 when the connections are done.
 */
class KvQueryBufferLimitTest {
    private Server server;
    private KvProtocol kv;

    private void start(KvProtocol.Builder builder) {
        kv = builder.build();
        server = KvTestSupport.start(kv);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** A SET of {@code key} to a value of {@code size} bytes of {@code fill}, as one client would send it. */
    private static byte[] set(String key, char fill, int size) {
        return bytes(cmd("SET", key, String.valueOf(fill).repeat(size)));
    }

    private void awaitBuffered(long bytes) {
        Await.until("buffered partial input == " + bytes + " (is " + kv.bufferedInputBytes() + ")",
                () -> kv.bufferedInputBytes() == bytes);
    }

    /** Samples the shared count on its own thread until closed, keeping the largest value seen. */
    private final class MaxSampler implements AutoCloseable {
        final AtomicLong max = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread = new Thread(() -> {
            while (!stop.get()) {
                max.accumulateAndGet(kv.bufferedInputBytes(), Math::max);
                Thread.onSpinWait();
            }
        }, "buffered-input-sampler");

        MaxSampler() {
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join();
        }
    }

    @Test
    void theConnectionOverItsCapGetsTheErrorAndIsClosedWhileAnotherIsServed() {
        start(KvProtocol.builder().maxQueryBuffer(4096).maxTotalQueryBuffer(1024 * 1024));
        try (RawClient bystander = new RawClient(server.port()); RawClient bad = new RawClient(server.port())) {
            expect(bystander, "+OK\r\n", "SET", "mine", "safe");
            // The bystander holds most of a request just under the cap while the other breaks it.
            byte[] underCap = set("big", 'b', 4000);
            assertTrue(underCap.length <= 4096);
            bystander.send(Arrays.copyOf(underCap, 4000));
            awaitBuffered(4000);

            byte[] overCap = set("k", 'x', 8000);
            bad.send(bytes(cmd("SET", "before", "1")));
            bad.send(Arrays.copyOf(overCap, 5000));
            // the reply to the command before it, the error, then the server closes the connection
            assertEquals("+OK\r\n-ERR Protocol error: client query buffer limit of 4096 bytes reached\r\n",
                    text(bad.readToEnd()));
            awaitBuffered(4000); // only the bystander's bytes are left

            bystander.send(Arrays.copyOfRange(underCap, 4000, underCap.length));
            expectReply(bystander, "+OK\r\n");
            expect(bystander, bulk("b".repeat(4000)), "GET", "big");
            expect(bystander, bulk("1"), "GET", "before");
            expect(bystander, "$-1\r\n", "GET", "k");
            assertEquals(0, kv.bufferedInputBytes());
        }
        Await.until("protocol error counted", () ->
                server.statistics().service(KvProtocol.SERVICE).protocolErrors() == 1);
        awaitBuffered(0);
    }

    @Test
    void theConnectionsThatWouldPassTheTotalAreClosedAndTheOthersFinishTheirCommands() throws Exception {
        int cap = 48 * 1024;
        start(KvProtocol.builder().maxQueryBuffer(64 * 1024).maxTotalQueryBuffer(cap));
        List<RawClient> clients = new ArrayList<>();
        try (MaxSampler sampler = new MaxSampler()) {
            byte[][] requests = new byte[5][];
            long held = 0;
            for (int i = 0; i < 5; i++) {
                RawClient c = new RawClient(server.port());
                clients.add(c);
                requests[i] = set("k" + i, (char) ('a' + i), 20_000);
                int partial = 15_000 + i; // each one 15 kB of its 20 kB value, three fit under 48 KiB
                c.send(Arrays.copyOf(requests[i], partial));
                if (i < 3) {
                    held += partial;
                    awaitBuffered(held);
                } else {
                    assertEquals("-ERR Protocol error: total query buffer limit of " + cap + " bytes reached\r\n",
                            text(c.readToEnd()));
                    awaitBuffered(held); // its share was given back, the others' kept
                }
            }
            // A new connection is served meanwhile: complete commands are never held.
            try (RawClient other = new RawClient(server.port())) {
                expect(other, "+PONG\r\n", "PING");
            }
            for (int i = 0; i < 3; i++) {
                byte[] r = requests[i];
                clients.get(i).send(Arrays.copyOfRange(r, 15_000 + i, r.length));
                expectReply(clients.get(i), "+OK\r\n");
            }
            awaitBuffered(0);
            for (int i = 0; i < 5; i++) {
                expect(clients.get(0), i < 3 ? bulk(String.valueOf((char) ('a' + i)).repeat(20_000)) : "$-1\r\n",
                        "GET", "k" + i);
            }
            sampler.close();
            // (awaitBuffered saw it reach 45,003 exactly; the sampler checks it never went past the cap between)
            assertTrue(sampler.max.get() <= cap, "the total reached " + sampler.max.get());
        } finally {
            clients.forEach(RawClient::close);
        }
        Await.until("both refusals counted", () ->
                server.statistics().service(KvProtocol.SERVICE).protocolErrors() == 2);
    }

    @Test
    void clientsSendingAtOnceNeverMakeTheTotalPassItsCap() throws Exception {
        int cap = 100_000;
        start(KvProtocol.builder().maxTotalQueryBuffer(cap));
        int n = 8;
        int size = 40_000;
        int partial = 30_000; // three fit under the cap, four do not
        List<RawClient> clients = new ArrayList<>();
        byte[][] requests = new byte[n][];
        try (MaxSampler sampler = new MaxSampler()) {
            List<Thread> senders = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                RawClient c = new RawClient(server.port());
                clients.add(c);
                byte[] request = set("c" + i, (char) ('A' + i), size);
                requests[i] = request;
                senders.add(new Thread(() -> {
                    try {
                        for (int at = 0; at < partial; at += 1000) {
                            c.send(Arrays.copyOfRange(request, at, Math.min(partial, at + 1000)));
                        }
                    } catch (UncheckedIOException refusedAndClosed) {
                        // the server may have closed this one already
                    }
                }));
            }
            senders.forEach(Thread::start);
            for (Thread t : senders) {
                t.join(10_000);
            }
            // Settled: every connection still open holds all it sent (one refused holds nothing).
            Await.until("every open connection holds its partial request", () ->
                    kv.bufferedInputBytes() == (long) server.count(KvProtocol.SERVICE) * partial
                            && server.count(KvProtocol.SERVICE) > 0);
            int survivors = 0;
            for (int i = 0; i < n; i++) {
                RawClient c = clients.get(i);
                try {
                    c.send(concat(Arrays.copyOfRange(requests[i], partial, requests[i].length), bytes(cmd("QUIT"))));
                } catch (UncheckedIOException refusedAndClosed) {
                    // closed by the server: what it said is still to be read
                }
                String got = text(c.readToEnd());
                if (got.equals("+OK\r\n+OK\r\n")) {
                    survivors++;
                } else {
                    assertEquals("-ERR Protocol error: total query buffer limit of " + cap + " bytes reached\r\n",
                            got, "client " + i);
                }
            }
            sampler.close();
            assertTrue(survivors >= 1 && survivors <= 3, survivors + " survived");
            assertTrue(sampler.max.get() <= cap, "the total reached " + sampler.max.get());
            try (RawClient check = new RawClient(server.port())) {
                int stored = 0;
                for (int i = 0; i < n; i++) {
                    check.send(bytes(cmd("GET", "c" + i)));
                    String header = check.readLine();
                    if (!header.equals("$-1")) {
                        assertEquals("$" + size, header);
                        assertEquals(String.valueOf((char) ('A' + i)).repeat(size) + "\r\n",
                                text(check.readExactly(size + 2)));
                        stored++;
                    }
                }
                assertEquals(survivors, stored);
            }
        } finally {
            clients.forEach(RawClient::close);
        }
        awaitBuffered(0);
    }

    @Test
    void whenConnectionsHoldingPartialInputCloseTheTotalGoesBackToZero() {
        start(KvProtocol.builder().maxQueryBuffer(64 * 1024).maxTotalQueryBuffer(256 * 1024));
        List<RawClient> clients = new ArrayList<>();
        long held = 0;
        for (int i = 0; i < 6; i++) {
            RawClient c = new RawClient(server.port());
            clients.add(c);
            int partial = 1000 * (i + 1);
            c.send(Arrays.copyOf(set("p" + i, 'p', 200_000), partial));
            held += partial;
        }
        long all = held;
        awaitBuffered(all);
        // one closes, one half-closes, one breaks its cap, the rest go when the server stops
        clients.get(0).close();
        awaitBuffered(all - 1000);
        try {
            clients.get(1).socket().shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitBuffered(all - 1000 - 2000);
        clients.get(2).send(new byte[64 * 1024]);
        assertEquals("-ERR Protocol error: client query buffer limit of 65536 bytes reached\r\n",
                text(clients.get(2).readToEnd()));
        awaitBuffered(all - 1000 - 2000 - 3000);
        clients.get(3).close();
        awaitBuffered(5000 + 6000); // clients 4 and 5 are left
        clients.forEach(RawClient::close);
        awaitBuffered(0);
    }

    @Test
    void aSubscriberSwitchAndBackKeepsTheCountRight() {
        start(KvProtocol.builder().maxQueryBuffer(64 * 1024));
        try (RawClient c = new RawClient(server.port()); RawClient publisher = new RawClient(server.port())) {
            // SUBSCRIBE and, in the same write, half of a PING with a 2,000-byte argument: the switch to the
            // subscriber protocol hands the half request to the new decoder
            byte[] ping = bytes(cmd("PING", "s".repeat(2000)));
            c.send(KvTestSupport.concat(bytes(cmd("SUBSCRIBE", "ch")), Arrays.copyOf(ping, 1000)));
            expectReply(c, "*3\r\n$9\r\nsubscribe\r\n" + bulk("ch") + ":1\r\n");
            Await.until("switched to the subscriber service", () -> server.count(KvProtocol.SUBSCRIBER_SERVICE) == 1);
            awaitBuffered(1000);
            expect(publisher, ":1\r\n", "PUBLISH", "ch", "hello");
            expectReply(c, "*3\r\n$7\r\nmessage\r\n" + bulk("ch") + bulk("hello"));
            c.send(Arrays.copyOfRange(ping, 1000, ping.length));
            expectReply(c, "*2\r\n$4\r\npong\r\n" + bulk("s".repeat(2000)));
            awaitBuffered(0);

            // and back: UNSUBSCRIBE with half of the next request after it
            byte[] set = set("after", 'z', 3000);
            c.send(KvTestSupport.concat(bytes(cmd("UNSUBSCRIBE", "ch")), Arrays.copyOf(set, 1500)));
            expectReply(c, "*3\r\n$11\r\nunsubscribe\r\n" + bulk("ch") + ":0\r\n");
            Await.until("switched back to the kv service", () -> server.count(KvProtocol.SUBSCRIBER_SERVICE) == 0);
            awaitBuffered(1500);
            c.send(Arrays.copyOfRange(set, 1500, set.length));
            expectReply(c, "+OK\r\n");
            expect(c, bulk("z".repeat(3000)), "GET", "after");
            awaitBuffered(0);

            // a subscriber closed while it holds half a request gives its share back too
            c.send(KvTestSupport.concat(bytes(cmd("SUBSCRIBE", "ch")), Arrays.copyOf(ping, 700)));
            expectReply(c, "*3\r\n$9\r\nsubscribe\r\n" + bulk("ch") + ":1\r\n");
            awaitBuffered(700);
        }
        awaitBuffered(0);
    }

    @Test
    void capsFailFastNamingTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvProtocol.builder().maxQueryBuffer(0));
        assertEquals("maxQueryBuffer must be at least 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KvProtocol.builder().maxTotalQueryBuffer(-1));
        assertEquals("maxTotalQueryBuffer must be at least 1, got -1", e.getMessage());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return KvTestSupport.concat(a, b);
    }
}
