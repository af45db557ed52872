package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.SocketException;
import java.nio.charset.StandardCharsets;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expect;
import static dev.serverframework.examples.kv.KvTestSupport.expectReply;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** PUBLISH / SUBSCRIBE / UNSUBSCRIBE between real clients, built on Server.each over the subscriber service. */
class KvPubSubTest {
    private Server server;

    @BeforeEach
    void start() {
        server = KvTestSupport.start(KvProtocol.builder().maxSubscriberBacklog(256 * 1024).build());
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.stop();
        server.awaitTermination();
    }

    private static String subscribed(String channel, int count) {
        return "*3\r\n$9\r\nsubscribe\r\n" + bulk(channel) + ":" + count + "\r\n";
    }

    private static String unsubscribed(String channel, int count) {
        return "*3\r\n$11\r\nunsubscribe\r\n" + bulk(channel) + ":" + count + "\r\n";
    }

    private static String message(String channel, String payload) {
        return "*3\r\n$7\r\nmessage\r\n" + bulk(channel) + bulk(payload);
    }

    @Test
    void aBurstOfPipelinedPublishesOnOneLoopReachesTheSubscriberWholeAndInOrder() throws Exception {
        // One I/O loop for everyone: the publisher's 20,000 pipelined PUBLISHes and the deliveries they make
        // share it, batched and flushed together; the subscriber gets every message, in order, and stays.
        Server oneLoop = Server.builder().port(0).bindAddress("127.0.0.1").ioThreads(1).workers(1)
                .shutdownHook(false).idleTimeout(java.time.Duration.ZERO)
                .protocol(KvProtocol.builder().maxSubscriberBacklog(64L * 1024 * 1024).build()).build().start();
        try (RawClient sub = new RawClient(oneLoop.port()); RawClient publisher = new RawClient(oneLoop.port())) {
            expect(sub, subscribed("burst", 1), "SUBSCRIBE", "burst");
            int count = 20_000;
            StringBuilder all = new StringBuilder();
            StringBuilder want = new StringBuilder();
            for (int i = 0; i < count; i++) {
                all.append(cmd("PUBLISH", "burst", "m" + i));
                want.append(message("burst", "m" + i));
            }
            publisher.send(bytes(all.toString()));
            expectReply(sub, want.toString());
            expectReply(publisher, ":1\r\n".repeat(count));
            assertEquals(0, oneLoop.pubSub().overflowed());
        } finally {
            oneLoop.stop();
            oneLoop.awaitTermination();
        }
    }

    @Test
    void aLargeMessageArrivesWholeAtEverySubscriber() {
        String big = "x".repeat(Resp.SHARE_PAYLOAD_OVER * 3) + "end";
        try (RawClient a = new RawClient(server.port()); RawClient b = new RawClient(server.port());
             RawClient publisher = new RawClient(server.port())) {
            expect(a, subscribed("big", 1), "SUBSCRIBE", "big");
            expect(b, subscribed("big", 1), "SUBSCRIBE", "big");
            expect(publisher, ":2\r\n", "PUBLISH", "big", big);
            expectReply(a, message("big", big));
            expectReply(b, message("big", big));
        }
    }

    @Test
    void publishedMessagesReachExactlyTheSubscribersOfTheirChannel() {
        try (RawClient news = new RawClient(server.port()); RawClient sport = new RawClient(server.port());
             RawClient publisher = new RawClient(server.port())) {
            expect(news, subscribed("news", 1), "SUBSCRIBE", "news");
            expect(sport, subscribed("sport", 1) + subscribed("news", 2), "SUBSCRIBE", "sport", "news");
            expect(publisher, ":2\r\n", "PUBLISH", "news", "hello");
            expect(publisher, ":1\r\n", "PUBLISH", "sport", "goal");
            expect(publisher, ":0\r\n", "PUBLISH", "nobody", "x");
            expectReply(news, message("news", "hello"));
            expectReply(sport, message("news", "hello") + message("sport", "goal"));
            // news got nothing else: the next thing it reads is the reply to its own PING
            expect(news, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "PING");
            assertEquals(2, server.count(KvProtocol.SUBSCRIBER_SERVICE));
            assertEquals(1, server.count(KvProtocol.SERVICE));
        }
    }

    @Test
    void aSubscribedConnectionOnlyTakesPubSubCommandsUntilItUnsubscribesFromAll() {
        try (RawClient c = new RawClient(server.port()); RawClient publisher = new RawClient(server.port())) {
            expect(c, subscribed("a", 1) + subscribed("b", 2), "SUBSCRIBE", "a", "b");
            expect(c, "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET"
                    + " are allowed in this context\r\n", "GET", "k");
            expect(c, "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n", "PING", "hi");
            expect(c, unsubscribed("a", 1), "UNSUBSCRIBE", "a");
            expect(publisher, ":0\r\n", "PUBLISH", "a", "gone");
            expect(c, unsubscribed("b", 0), "UNSUBSCRIBE");
            expect(c, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", "UNSUBSCRIBE");
            expect(c, "$-1\r\n", "GET", "k"); // back to a plain kv connection
            expect(c, "+PONG\r\n", "PING");
            Await.until("switched back to the kv service", () -> server.count(KvProtocol.SUBSCRIBER_SERVICE) == 0);
        }
    }

    @Test
    void pipelinedCommandsAroundASubscribeAreAnsweredInOrder() {
        try (RawClient c = new RawClient(server.port())) {
            // The protocol switch happens between these commands, all sent in one write.
            c.send(bytes(cmd("SET", "k", "v") + cmd("SUBSCRIBE", "x") + cmd("PING") + cmd("UNSUBSCRIBE", "x")
                    + cmd("GET", "k") + cmd("SUBSCRIBE", "y") + cmd("QUIT")));
            assertEquals("+OK\r\n" + subscribed("x", 1) + "*2\r\n$4\r\npong\r\n$0\r\n\r\n" + unsubscribed("x", 0)
                    + bulk("v") + subscribed("y", 1) + "+OK\r\n",
                    new String(c.readToEnd(), StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void aMessagePublishedAfterTheConfirmationIsAlwaysDelivered() {
        // The confirmation waits for the switch to the subscriber service, so each() finds the subscriber.
        try (RawClient publisher = new RawClient(server.port())) {
            for (int i = 0; i < 100; i++) {
                try (RawClient sub = new RawClient(server.port())) {
                    expect(sub, subscribed("race", 1), "SUBSCRIBE", "race");
                    expect(publisher, ":1\r\n", "PUBLISH", "race", "m" + i);
                    expectReply(sub, message("race", "m" + i));
                }
                Await.until("subscriber gone", () -> server.count(KvProtocol.SUBSCRIBER_SERVICE) == 0);
            }
        }
    }

    @Test
    void aClosedSubscriberNoLongerCounts() {
        try (RawClient publisher = new RawClient(server.port())) {
            RawClient sub = new RawClient(server.port());
            expect(sub, subscribed("c", 1), "SUBSCRIBE", "c");
            expect(publisher, ":1\r\n", "PUBLISH", "c", "x");
            sub.close();
            Await.until("PUBLISH counts no subscriber", () -> {
                publisher.send(bytes(cmd("PUBLISH", "c", "y")));
                return publisher.readLine().equals(":0");
            });
        }
    }

    @Test
    void aSubscriberThatDoesNotReadIsDroppedAndOthersGoOn() {
        try (RawClient slow = new RawClient(server.port()); RawClient publisher = new RawClient(server.port());
             RawClient other = new RawClient(server.port())) {
            slow.socket().setReceiveBufferSize(4096);
            expect(slow, subscribed("flood", 1), "SUBSCRIBE", "flood");
            String payload = "p".repeat(64 * 1024);
            String publish = cmd("PUBLISH", "flood", payload);
            // Far more than socket buffers and the 256 KiB backlog limit hold; slow never reads.
            for (int i = 0; i < 400 && server.count(KvProtocol.SUBSCRIBER_SERVICE) > 0; i++) {
                publisher.send(bytes(publish));
                String reply = publisher.readLine();
                assertEquals(true, reply.equals(":1") || reply.equals(":0"), reply);
            }
            Await.until("slow subscriber dropped", () -> server.count(KvProtocol.SUBSCRIBER_SERVICE) == 0);
            expect(other, "+PONG\r\n", "PING");
            expect(publisher, ":0\r\n", "PUBLISH", "flood", "after");
        } catch (SocketException e) {
            throw new AssertionError(e);
        }
    }
}
