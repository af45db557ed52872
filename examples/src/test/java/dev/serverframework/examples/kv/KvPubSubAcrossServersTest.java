package dev.serverframework.examples.kv;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expect;
import static dev.serverframework.examples.kv.KvTestSupport.expectReply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two kv servers on one shared {@link PubSub}, as two instances would share channels through the Redis
 * engine: what is published on one reaches the subscribers of the other, in order.
 */
class KvPubSubAcrossServersTest {
    private PubSub pubSub;
    private Server a;
    private Server b;

    @BeforeEach
    void start() {
        pubSub = PubSub.inProcess();
        a = start(pubSub);
        b = start(pubSub);
    }

    private static Server start(PubSub pubSub) {
        return Server.builder().port(0).bindAddress("127.0.0.1").ioThreads(2).workers(2).shutdownHook(false)
                .idleTimeout(Duration.ZERO).pubSub(pubSub)
                .protocol(KvProtocol.builder().maxSubscriberBacklog(256 * 1024).build()).build().start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        a.stop();
        b.stop();
        a.awaitTermination();
        b.awaitTermination();
    }

    private static String subscribed(String channel, int count) {
        return "*3\r\n$9\r\nsubscribe\r\n" + bulk(channel) + ":" + count + "\r\n";
    }

    private static String message(String channel, String payload) {
        return "*3\r\n$7\r\nmessage\r\n" + bulk(channel) + bulk(payload);
    }

    /** Reads one {@code message} push and returns its payload. */
    private static String readMessage(RawClient c, String channel) {
        assertEquals("*3", c.readLine());
        assertEquals("$7", c.readLine());
        assertEquals("message", c.readLine());
        c.readLine();
        assertEquals(channel, c.readLine());
        c.readLine();
        return c.readLine();
    }

    @Test
    void aMessagePublishedOnOneServerReachesTheSubscribersOfTheOtherInOrder() {
        try (RawClient sub = new RawClient(b.port()); RawClient publisher = new RawClient(a.port())) {
            expect(sub, subscribed("news", 1), "SUBSCRIBE", "news");
            StringBuilder all = new StringBuilder();
            StringBuilder want = new StringBuilder();
            for (int i = 0; i < 200; i++) {
                all.append(cmd("PUBLISH", "news", "m" + i));
                want.append(message("news", "m" + i));
            }
            publisher.send(bytes(all.toString()));
            expectReply(publisher, ":1\r\n".repeat(200)); // the subscriber is in this process, on server B
            expectReply(sub, want.toString());
        }
    }

    @Test
    void messagesOfSeveralPublishersOnBothServersEachArriveInTheirOrder() throws Exception {
        int publishers = 4;
        int perPublisher = 300;
        try (RawClient subA = new RawClient(a.port()); RawClient subB = new RawClient(b.port())) {
            expect(subA, subscribed("mix", 1), "SUBSCRIBE", "mix");
            expect(subB, subscribed("mix", 1), "SUBSCRIBE", "mix");
            ExecutorService pool = Executors.newFixedThreadPool(publishers);
            try {
                List<Future<?>> sent = new ArrayList<>();
                for (int p = 0; p < publishers; p++) {
                    int port = (p % 2 == 0 ? a : b).port();
                    String name = "p" + p;
                    sent.add(pool.submit(() -> {
                        try (RawClient c = new RawClient(port)) {
                            for (int i = 0; i < perPublisher; i++) {
                                c.send(bytes(cmd("PUBLISH", "mix", name + ":" + i)));
                            }
                            expectReply(c, ":2\r\n".repeat(perPublisher));
                        }
                        return null;
                    }));
                }
                for (RawClient sub : List.of(subA, subB)) {
                    Map<String, Integer> next = new HashMap<>();
                    for (int n = 0; n < publishers * perPublisher; n++) {
                        String[] m = readMessage(sub, "mix").split(":");
                        int expected = next.getOrDefault(m[0], 0);
                        assertEquals(expected, Integer.parseInt(m[1]), "order of " + m[0]);
                        next.put(m[0], expected + 1);
                    }
                }
                for (Future<?> f : sent) {
                    f.get(30, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void unsubscribeStopsDeliveryFromTheOtherServer() {
        try (RawClient sub = new RawClient(b.port()); RawClient publisher = new RawClient(a.port())) {
            expect(sub, subscribed("x", 1) + subscribed("y", 2), "SUBSCRIBE", "x", "y");
            expect(sub, "*3\r\n$11\r\nunsubscribe\r\n" + bulk("x") + ":1\r\n", "UNSUBSCRIBE", "x");
            expect(publisher, ":0\r\n", "PUBLISH", "x", "not for you");
            expect(publisher, ":1\r\n", "PUBLISH", "y", "for you");
            expectReply(sub, message("y", "for you"));
            // nothing of x came before or after: the next thing read is the answer to PING
            expect(sub, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "PING");
            assertTrue(!pubSub.hasSubscribers("x"));
        }
    }

    @Test
    void aSubscriberThatDisconnectsMidStreamDoesNotDisturbThePublisherOrTheOthers() {
        int count = 2000;
        try (RawClient stays = new RawClient(a.port()); RawClient publisher = new RawClient(a.port())) {
            expect(stays, subscribed("s", 1), "SUBSCRIBE", "s");
            RawClient leaves = new RawClient(b.port());
            expect(leaves, subscribed("s", 1), "SUBSCRIBE", "s");
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < count; i++) {
                all.append(cmd("PUBLISH", "s", "m" + i));
            }
            publisher.send(bytes(all.toString()));
            assertEquals("m0", readMessage(leaves, "s"));
            leaves.close();
            for (int i = 0; i < count; i++) {
                String reply = publisher.readLine();
                assertTrue(reply.equals(":2") || reply.equals(":1"), reply);
            }
            for (int i = 0; i < count; i++) {
                assertEquals("m" + i, readMessage(stays, "s"));
            }
            expect(publisher, "+PONG\r\n", "PING");
            Await.until("the closed subscriber's subscription ended", () -> pubSub.subscribers("s") == 1);
            expect(publisher, ":1\r\n", "PUBLISH", "s", "after");
            expectReply(stays, message("s", "after"));
        }
    }

    @Test
    void channelNamesAreUtf8SoTheyNameTheSameChannelAsInRedis() {
        // "café/€" as redis-cli sends it: UTF-8 bytes (here carried in a String one char per byte)
        String utf8 = new String("café/€".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        try (RawClient sub = new RawClient(b.port()); RawClient publisher = new RawClient(a.port())) {
            expect(sub, subscribed(utf8, 1), "SUBSCRIBE", utf8);
            assertTrue(pubSub.hasSubscribers("café/€"), "the pub/sub channel is the decoded text");
            expect(publisher, ":1\r\n", "PUBLISH", utf8, "x");
            expectReply(sub, message(utf8, "x"));
            String invalid = "\u00ff\u00fe"; // the bytes FF FE: not UTF-8
            expect(publisher, "-" + PubSubCommands.INVALID_CHANNEL + "\r\n", "PUBLISH", invalid, "x");
            expect(sub, "-" + PubSubCommands.INVALID_CHANNEL + "\r\n", "SUBSCRIBE", "ok", invalid);
            expect(sub, "*3\r\n$11\r\nunsubscribe\r\n" + bulk(invalid) + ":1\r\n", "UNSUBSCRIBE", invalid);
            assertTrue(!pubSub.hasSubscribers("ok"), "a refused SUBSCRIBE subscribes to none of its channels");
        }
    }
}
