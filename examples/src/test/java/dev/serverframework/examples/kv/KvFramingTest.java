package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expectReply;

/** Pipelining, requests split across reads anywhere, and inline (telnet-style) commands, over real sockets. */
class KvFramingTest {
    private Server server;
    private RawClient client;

    @BeforeEach
    void start() {
        server = KvTestSupport.start(KvProtocol.builder().build());
        client = new RawClient(server.port());
    }

    @AfterEach
    void stop() throws InterruptedException {
        client.close();
        server.stop();
        server.awaitTermination();
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() {
        StringBuilder requests = new StringBuilder();
        StringBuilder replies = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            requests.append(cmd("SET", "k" + i, "v" + i)).append(cmd("INCR", "n")).append(cmd("GET", "k" + i));
            replies.append("+OK\r\n").append(':').append(i + 1).append("\r\n").append(bulk("v" + i));
        }
        requests.append("PING\r\n"); // an inline command in the same stream
        replies.append("+PONG\r\n");
        client.send(bytes(requests.toString())); // one write: the server reads many commands at once
        expectReply(client, replies.toString());
    }

    @Test
    void aCommandWrittenByteByByteIsAnswered() {
        byte[] request = bytes(cmd("SET", "key", "a\r\nb") + cmd("GET", "key"));
        for (byte b : request) {
            client.send(new byte[] {b}); // TCP_NODELAY: each byte its own segment
        }
        expectReply(client, "+OK\r\n" + bulk("a\r\nb"));
    }

    @Test
    void everyTwoPartSplitOfACommandIsAnswered() {
        byte[] request = bytes(cmd("SET", "split", "value with spaces") + cmd("GET", "split") + "ECHO inline\r\n");
        String reply = "+OK\r\n" + bulk("value with spaces") + bulk("inline");
        for (int cut = 1; cut < request.length; cut++) {
            client.send(Arrays.copyOfRange(request, 0, cut));
            client.send(Arrays.copyOfRange(request, cut, request.length));
            expectReply(client, reply);
        }
    }

    @Test
    void inlineCommandsWorkAsInTelnet() {
        client.send("PING\r\n");
        expectReply(client, "+PONG\r\n");
        client.send("set greeting \"hello world\"\n"); // LF alone ends a line too
        expectReply(client, "+OK\r\n");
        client.send("get greeting\r\n");
        expectReply(client, bulk("hello world"));
        client.send("\r\n\r\n   \r\nECHO 'it''s'\r\n"); // empty lines are skipped
        expectReply(client, "-ERR Protocol error: unbalanced quotes in request\r\n");
    }

    @Test
    void inlineQuotingFollowsRedis() {
        client.send("SET q \"a\\x41\\n\\\"b\\\"\"\r\nGET q\r\nSET s 'x\\'y'\r\nGET s\r\nsEt   spaced\t  v  \r\nGET spaced\r\n");
        expectReply(client, "+OK\r\n" + bulk("aA\n\"b\"") + "+OK\r\n" + bulk("x'y") + "+OK\r\n" + bulk("v"));
    }
}
