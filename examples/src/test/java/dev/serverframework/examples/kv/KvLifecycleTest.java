package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expect;
import static dev.serverframework.examples.kv.KvTestSupport.expectReply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * kv at the edges of a connection's life: a client that half-closes after its commands gets every reply,
 * a client over the connection limit gets Redis's own error and a clean close, and a stop answers the
 * commands already read and then ends each connection cleanly.
 */
class KvLifecycleTest {
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    @Test
    void aClientThatHalfClosesGetsEveryReplyThenTheEnd() throws IOException {
        server = KvTestSupport.start(KvProtocol.builder().build());
        try (RawClient client = new RawClient(server.port())) {
            StringBuilder pipeline = new StringBuilder();
            for (int i = 0; i < 100; i++) {
                pipeline.append(cmd("SET", "k" + i, "v" + i)).append(cmd("GET", "k" + i));
            }
            client.send(bytes(pipeline.toString()));
            client.socket().shutdownOutput();
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 100; i++) {
                expected.append("+OK\r\n").append(bulk("v" + i));
            }
            assertEquals(expected.toString(), new String(client.readToEndCleanly(), StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void aClientOverTheLimitGetsRedisErrorAndACleanClose() {
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).maxConnections(1)
                .protocol(KvProtocol.builder().build()).build().start();
        try (RawClient admitted = new RawClient(server.port())) {
            expect(admitted, "+PONG\r\n", "PING");
            RawClient refused = new RawClient(server.port());
            // The refused client sends a command too, as redis-cli does at once: it never causes a reset.
            refused.send(bytes(cmd("PING")));
            assertEquals("-ERR max number of clients reached\r\n",
                    new String(refused.readToEndCleanly(), StandardCharsets.US_ASCII));
            refused.close();
            expect(admitted, "+PONG\r\n", "PING");
        }
        assertEquals(1, server.statistics().rejected());
    }

    @Test
    void aStopAnswersTheCommandsAlreadyReadThenClosesCleanly() {
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .drainWindow(Duration.ofSeconds(5)).protocol(KvProtocol.builder().build()).build().start();
        try (RawClient client = new RawClient(server.port())) {
            expect(client, "+OK\r\n", "SET", "k", "v");
            server.stop();
            // Within the drain window a command is still answered; it is the last one.
            client.send(bytes(cmd("GET", "k")));
            expectReply(client, bulk("v"));
            assertNull(client.readLine(), "the connection ends right after the last reply");
        }
        Await.until("the server to close the connection", () -> server.count(null) == 0);
    }
}
