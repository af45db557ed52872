package dev.serverframework.examples;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.PubSubEngine;
import dev.serverframework.core.redis.RedisEngine;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.examples.kv.KvProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --redis} and {@code --reuse-port}: checked at parse time, and the one pub/sub a command's servers share. */
class PubSubOptionCommandsTest {

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:6379", "127.0.0.1:6379", "redis://", "redis://host:99999", "redis:// x"})
    void aBadRedisUriIsAUsageErrorNamingTheOption(String uri) {
        StringWriter err = new StringWriter();
        int status = new CommandLine(new Main()).setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()))
                .execute("kv", "--redis", uri, "--port", "0", "--bind", "127.0.0.1");
        assertEquals(2, status, "picocli's status for a usage error");
        assertTrue(err.toString().contains("--redis"), err.toString());
        assertTrue(err.toString().contains("expected e.g. redis://127.0.0.1:6379"), err.toString());
    }

    @Test
    void aGoodRedisUriClustersThroughTheRedisEngineAndHidesItsPassword() {
        ChatCommand chat = new ChatCommand();
        new CommandLine(chat).parseArgs("--redis", "rediss://user:secret@redis.example:6380");
        PubSub pubSub = chat.options.clusteredBy(chat.redis).pubSub();
        assertTrue(pubSub.engine() instanceof RedisEngine, pubSub.engine().toString());
        assertEquals("pub/sub: rediss://***@redis.example:6380", chat.options.pubSubLine(), "no password shown");
    }

    @ParameterizedTest
    @ValueSource(strings = {"httpd", "echo"})
    void serversWithNothingToShareDoNotTakeRedis(String command) {
        StringWriter err = new StringWriter();
        int status = new CommandLine(new Main()).setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()))
                .execute(command, "--redis", "redis://127.0.0.1:6379", "--port", "0", "--bind", "127.0.0.1");
        assertEquals(2, status, err.toString());
        assertTrue(err.toString().contains("--redis"), err.toString());
    }

    @Test
    void withoutRedisTheProcessIsItsOwnPubSub() {
        KvCommand kv = new KvCommand();
        new CommandLine(kv).parseArgs();
        assertEquals(PubSubEngine.State.LOCAL, kv.options.pubSub().state());
        assertSame(kv.options.pubSub(), kv.options.pubSub(), "one per process");
        assertTrue(kv.options.pubSubLine().startsWith("pub/sub: in-process"), kv.options.pubSubLine());
    }

    @Test
    void chatsTwoServersShareOnePubSubAndItsRoomIsRelayedThroughIt() throws Exception {
        try (ChatServers chat = ChatServers.start(); RawClient member = new RawClient(chat.lines.port())) {
            assertSame(chat.lines.pubSub(), chat.web.pubSub());
            assertTrue(member.readLine().startsWith("* welcome"));
            Await.until("the room subscribed", () -> chat.lines.pubSub().hasSubscribers("chat"));
            // What another instance's room publishes on the channel reaches this instance's members.
            chat.web.publish("chat", "* guest-9 joined elsewhere".getBytes(StandardCharsets.UTF_8));
            assertEquals("* guest-9 joined elsewhere", member.readLine());
        }
    }

    @Test
    void withReusePortTwoKvServersListenOnOnePort() throws Exception {
        Server first = kvServer(0);
        try {
            Server second = kvServer(first.port());
            try {
                assertEquals(first.port(), second.port());
                try (RawClient c = new RawClient(first.port())) {
                    c.send("PING\r\n");
                    assertEquals("+PONG", c.readLine());
                }
            } finally {
                second.stop();
                second.awaitTermination();
            }
        } finally {
            first.stop();
            first.awaitTermination();
        }
    }

    private static Server kvServer(int port) {
        KvCommand kv = new KvCommand();
        new CommandLine(kv).parseArgs("--bind", "127.0.0.1", "--reuse-port");
        return kv.options.builder("--port", port, KvProtocol.builder().build()).shutdownHook(false).build().start();
    }
}
