package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expect;
import static dev.serverframework.examples.kv.KvTestSupport.expectReply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every protocol error over real sockets: the replies to the commands before it, then Redis's error,
 * then the connection closes; a client connected meanwhile (with half a command sent) notices nothing.
 */
class KvProtocolErrorTest {
    private Server server;

    @BeforeEach
    void start() {
        server = KvTestSupport.start(KvProtocol.builder().maxBulkLength(1024).maxArguments(8).maxInlineLength(256)
                .build());
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.stop();
        server.awaitTermination();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "bad bulk length prefix      | *2\\r\\n$3\\r\\nGET\\r\\n$x1\\r\\n              | invalid bulk length",
            "negative bulk length        | *1\\r\\n$-1\\r\\n                              | invalid bulk length",
            "bulk string over the limit  | *2\\r\\n$3\\r\\nGET\\r\\n$1025\\r\\n             | invalid bulk length",
            "bad array length prefix     | *two\\r\\n                                    | invalid multibulk length",
            "too many arguments          | *9\\r\\n                                      | invalid multibulk length",
            "garbage type byte           | *2\\r\\n$3\\r\\nGET\\r\\n!1\\r\\n               | expected '$', got '!'",
            "bulk string without CRLF    | *1\\r\\n$4\\r\\nPINGxx                         | expected CRLF after bulk string",
            "endless length line         | *1\\r\\n$11111111111111111111111111111111111111 | too big bulk count string",
            "unbalanced inline quotes    | GET \"k\\r\\n                                 | unbalanced quotes in request",
    })
    void protocolErrorGetsErrorReplyAndCloseWhileOthersGoOn(String name, String badInput, String reason) {
        try (RawClient bystander = new RawClient(server.port()); RawClient bad = new RawClient(server.port())) {
            expect(bystander, "+OK\r\n", "SET", "mine", "safe");
            // Half a command on the bystander, finished after the other connection has failed.
            byte[] half = bytes(cmd("GET", "mine"));
            bystander.send(Arrays.copyOf(half, 9));

            String input = badInput.replace("\\r\\n", "\r\n");
            bad.send(bytes(cmd("SET", "before", "1") + input));
            byte[] all = bad.readToEnd(); // returns when the server closes the connection
            assertEquals("+OK\r\n-ERR Protocol error: " + reason + "\r\n", new String(all, StandardCharsets.ISO_8859_1));

            bystander.send(Arrays.copyOfRange(half, 9, half.length));
            expectReply(bystander, bulk("safe"));
            expect(bystander, bulk("1"), "GET", "before");
        }
        Await.until("protocol error counted", () ->
                server.statistics().service(KvProtocol.SERVICE).protocolErrors() == 1);
    }

    /**
     * A request over a limit that the client's half-close cuts short is refused like any other: the replies
     * before it, Redis's error, then the close, counted once.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "unfinished inline line over the limit | too big inline request",
            "unfinished bulk string over the limit | invalid bulk length",
    })
    void aRequestOverALimitCutByAHalfCloseIsRefusedAfterTheRepliesBeforeIt(String name, String reason)
            throws Exception {
        try (RawClient client = new RawClient(server.port())) {
            String over = name.startsWith("unfinished inline")
                    ? "ECHO " + "x".repeat(300)
                    : "*2\r\n$3\r\nGET\r\n$2000\r\n";
            client.send(bytes(cmd("SET", "before", "1") + over));
            client.socket().shutdownOutput();
            assertEquals("+OK\r\n-ERR Protocol error: " + reason + "\r\n",
                    new String(client.readToEndCleanly(), StandardCharsets.ISO_8859_1));
        }
        Await.until("protocol error counted", () ->
                server.statistics().service(KvProtocol.SERVICE).protocolErrors() >= 1);
        assertEquals(1, server.statistics().service(KvProtocol.SERVICE).protocolErrors());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {"inline line over the limit|true", "inline line at the limit|false"})
    void inlineLineLimit(String name, boolean over) {
        try (RawClient client = new RawClient(server.port())) {
            String line = "ECHO " + "x".repeat(over ? 252 : 251); // the limit is 256 bytes
            client.send(line + "\r\n");
            if (over) {
                assertEquals("-ERR Protocol error: too big inline request\r\n",
                        new String(client.readToEnd(), StandardCharsets.ISO_8859_1));
            } else {
                expectReply(client, bulk("x".repeat(251)));
                expect(client, "+PONG\r\n", "PING");
            }
        }
    }

    @ParameterizedTest(name = "a garbage top-level byte is an inline command, as in Redis: {0}")
    @CsvSource({"'$3'", "':1'", "'+OK'"})
    void garbageAtTopLevelIsAnUnknownInlineCommand(String word) {
        try (RawClient client = new RawClient(server.port())) {
            client.send(word + "\r\n");
            expectReply(client, "-ERR unknown command '" + word + "', with args beginning with: \r\n");
            expect(client, "+PONG\r\n", "PING");
            assertTrue(client.socket().isConnected());
        }
    }
}
