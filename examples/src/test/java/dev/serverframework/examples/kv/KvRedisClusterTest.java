package dev.serverframework.examples.kv;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.PubSubEngine;
import dev.serverframework.core.Server;
import dev.serverframework.core.redis.RedisEngine;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.core.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expect;
import static dev.serverframework.examples.kv.KvTestSupport.expectReply;

/**
 * kv's PUBLISH/SUBSCRIBE across instances through a real redis-server: each kv server has its own Redis
 * engine, as separate processes would, and a plain Redis client publishing straight to Redis reaches kv's
 * subscribers too.
 */
class KvRedisClusterTest {
    private RedisServerProcess redis;
    private final List<Server> servers = new ArrayList<>();

    @BeforeAll
    static void redisServerIsInstalled() {
        RedisServerProcess.assumeInstalled();
    }

    @BeforeEach
    void startRedis() throws IOException {
        redis = RedisServerProcess.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Server s : servers) {
            s.stop();
            s.awaitTermination();
        }
        redis.close();
    }

    private Server instance() {
        Server s = Server.builder().port(0).bindAddress("127.0.0.1").ioThreads(1).workers(2).shutdownHook(false)
                .idleTimeout(Duration.ZERO).pubSub(PubSub.over(RedisEngine.create(redis.uri())))
                .protocol(KvProtocol.builder().build()).build().start();
        servers.add(s);
        Await.until("the instance connects to Redis", () -> s.pubSub().state() == PubSubEngine.State.CONNECTED);
        return s;
    }

    private static String subscribed(String channel, int count) {
        return "*3\r\n$9\r\nsubscribe\r\n" + bulk(channel) + ":" + count + "\r\n";
    }

    private static String message(String channel, String payload) {
        return "*3\r\n$7\r\nmessage\r\n" + bulk(channel) + bulk(payload);
    }

    @Test
    void aPublishOnOneInstanceReachesTheSubscribersOfTheOthersInOrder() {
        Server a = instance();
        Server b = instance();
        Server c = instance();
        try (RawClient onB = new RawClient(b.port()); RawClient onC = new RawClient(c.port());
             RawClient publisher = new RawClient(a.port())) {
            expect(onB, subscribed("orders", 1), "SUBSCRIBE", "orders");
            expect(onC, subscribed("orders", 1), "SUBSCRIBE", "orders");
            Await.until("both instances subscribe in Redis", () -> redis.subscribers("orders") == 2);
            StringBuilder all = new StringBuilder();
            StringBuilder want = new StringBuilder();
            for (int i = 0; i < 500; i++) {
                all.append(cmd("PUBLISH", "orders", "o" + i));
                want.append(message("orders", "o" + i));
            }
            publisher.send(bytes(all.toString()));
            // PUBLISH counts this instance's subscribers, as a Redis Cluster node counts its own.
            expectReply(publisher, ":0\r\n".repeat(500));
            expectReply(onB, want.toString());
            expectReply(onC, want.toString());
        }
    }

    @Test
    void aMessagePublishedStraightToRedisReachesKvSubscribers() {
        Server a = instance();
        try (RawClient onA = new RawClient(a.port()); RawClient redisClient = new RawClient(redis.port())) {
            expect(onA, subscribed("alerts", 1), "SUBSCRIBE", "alerts");
            Await.until("the instance subscribes in Redis", () -> redis.subscribers("alerts") == 1);
            // What redis-cli PUBLISH sends: no envelope, so the message arrives whole.
            expect(redisClient, ":1\r\n", "PUBLISH", "alerts", "disk full");
            expectReply(onA, message("alerts", "disk full"));
        }
    }
}
