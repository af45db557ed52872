package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static dev.serverframework.examples.kv.KvTestSupport.bulk;
import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.expect;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command over a real socket, replies compared byte for byte with what Redis 7 sends. */
class KvCommandsTest {
    private final KvTestSupport.ManualClock clock = new KvTestSupport.ManualClock();
    private KvProtocol protocol;
    private Server server;
    private RawClient client;

    @BeforeEach
    void start() {
        protocol = KvProtocol.builder().store(new KvStore(clock::now)).build();
        server = KvTestSupport.start(protocol);
        client = new RawClient(server.port());
    }

    @AfterEach
    void stop() throws InterruptedException {
        client.close();
        server.stop();
        server.awaitTermination();
    }

    @Test
    void pingAndEcho() {
        expect(client, "+PONG\r\n", "PING");
        expect(client, bulk("hello world"), "PING", "hello world");
        expect(client, "-ERR wrong number of arguments for 'ping' command\r\n", "PING", "a", "b");
        expect(client, bulk("x y"), "ECHO", "x y");
        expect(client, bulk(""), "ECHO", "");
        expect(client, "-ERR wrong number of arguments for 'echo' command\r\n", "ECHO");
    }

    @Test
    void commandNamesAreCaseInsensitive() {
        expect(client, "+PONG\r\n", "pInG");
        expect(client, "+OK\r\n", "set", "k", "v");
        expect(client, bulk("v"), "GeT", "k");
    }

    @Test
    void setAndGetAreBinarySafe() {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 256; i++) {
            all.append((char) i); // every byte, CR, LF and NUL included
        }
        String value = all.toString();
        expect(client, "+OK\r\n", "SET", "bin\r\nkey\0", value);
        expect(client, bulk(value), "GET", "bin\r\nkey\0");
        assertArrayEquals(bytes(value), protocol.store().get("bin\r\nkey\0"));
        expect(client, "$-1\r\n", "GET", "missing");
        expect(client, "-ERR wrong number of arguments for 'get' command\r\n", "GET");
        expect(client, "-ERR wrong number of arguments for 'get' command\r\n", "GET", "a", "b");
        expect(client, "-ERR wrong number of arguments for 'set' command\r\n", "SET", "a");
    }

    @Test
    void setConditionsNxAndXx() {
        expect(client, "$-1\r\n", "SET", "k", "1", "XX");
        expect(client, "+OK\r\n", "SET", "k", "1", "NX");
        expect(client, "$-1\r\n", "SET", "k", "2", "NX");
        expect(client, bulk("1"), "GET", "k");
        expect(client, "+OK\r\n", "SET", "k", "3", "xx");
        expect(client, bulk("3"), "GET", "k");
        expect(client, "-ERR syntax error\r\n", "SET", "k", "4", "NX", "XX");
        expect(client, "-ERR syntax error\r\n", "SET", "k", "4", "BOGUS");
        expect(client, "-ERR syntax error\r\n", "SET", "k", "4", "EX");
        expect(client, "-ERR syntax error\r\n", "SET", "k", "4", "EX", "10", "PX", "100");
    }

    @Test
    void setWithExpiryAndTtl() {
        expect(client, "+OK\r\n", "SET", "s", "v", "EX", "10");
        expect(client, ":10\r\n", "TTL", "s");
        expect(client, ":10000\r\n", "PTTL", "s");
        expect(client, "+OK\r\n", "SET", "p", "v", "PX", "1500");
        expect(client, ":2\r\n", "TTL", "p"); // rounded as Redis rounds
        clock.advance(1499);
        expect(client, bulk("v"), "GET", "p");
        clock.advance(1);
        expect(client, "$-1\r\n", "GET", "p");
        expect(client, ":-2\r\n", "TTL", "p");
        expect(client, "+OK\r\n", "SET", "a", "v", "PXAT", Long.toString(clock.now() + 5000));
        expect(client, ":5000\r\n", "PTTL", "a");
        expect(client, "+OK\r\n", "SET", "s", "w", "KEEPTTL");
        expect(client, ":8500\r\n", "PTTL", "s"); // 10 s, 1.5 s of which have passed
        expect(client, "+OK\r\n", "SET", "s", "w");
        expect(client, ":-1\r\n", "TTL", "s");
        expect(client, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "0");
        expect(client, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "PX", "-5");
        expect(client, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "9223372036854775807");
        expect(client, "-ERR value is not an integer or out of range\r\n", "SET", "k", "v", "EX", "ten");
    }

    @Test
    void delAndExistsCountLiveKeys() {
        expect(client, "+OK\r\n", "MSET", "a", "1", "b", "2", "c", "3");
        expect(client, ":3\r\n", "EXISTS", "a", "b", "a"); // a counted twice, as Redis does
        expect(client, ":2\r\n", "DEL", "a", "b", "nope");
        expect(client, ":0\r\n", "EXISTS", "a", "b");
        expect(client, ":1\r\n", "EXISTS", "c");
        expect(client, "+OK\r\n", "SET", "e", "v", "PX", "10");
        clock.advance(10);
        expect(client, ":0\r\n", "EXISTS", "e");
        expect(client, "+OK\r\n", "SET", "e", "v", "PX", "10");
        clock.advance(10);
        expect(client, ":0\r\n", "DEL", "e");
        expect(client, "-ERR wrong number of arguments for 'del' command\r\n", "DEL");
        expect(client, "-ERR wrong number of arguments for 'exists' command\r\n", "EXISTS");
    }

    @Test
    void incrAndDecr() {
        expect(client, ":1\r\n", "INCR", "n");
        expect(client, ":2\r\n", "INCR", "n");
        expect(client, ":1\r\n", "DECR", "n");
        expect(client, ":-1\r\n", "DECR", "fresh");
        expect(client, ":-101\r\n", "DECRBY", "fresh", "100");
        expect(client, ":899\r\n", "INCRBY", "fresh", "1000");
        expect(client, bulk("899"), "GET", "fresh");
        expect(client, "+OK\r\n", "SET", "s", "abc");
        expect(client, "-ERR value is not an integer or out of range\r\n", "INCR", "s");
        expect(client, "+OK\r\n", "SET", "s", " 1");
        expect(client, "-ERR value is not an integer or out of range\r\n", "INCR", "s");
        expect(client, "+OK\r\n", "SET", "s", "01");
        expect(client, "-ERR value is not an integer or out of range\r\n", "INCR", "s");
        expect(client, "-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "x");
        expect(client, "+OK\r\n", "SET", "max", "9223372036854775807");
        expect(client, "-ERR increment or decrement would overflow\r\n", "INCR", "max");
        expect(client, "+OK\r\n", "SET", "min", "-9223372036854775808");
        expect(client, "-ERR increment or decrement would overflow\r\n", "DECR", "min");
        expect(client, "-ERR wrong number of arguments for 'incr' command\r\n", "INCR");
        expect(client, "-ERR wrong number of arguments for 'decr' command\r\n", "DECR", "a", "b");
        // INCR keeps the key's expiry, as Redis does
        expect(client, "+OK\r\n", "SET", "t", "5", "EX", "100");
        expect(client, ":6\r\n", "INCR", "t");
        expect(client, ":100\r\n", "TTL", "t");
    }

    @Test
    void msetAndMget() {
        expect(client, "+OK\r\n", "MSET", "k1", "v1", "k2", "");
        expect(client, "*3\r\n$2\r\nv1\r\n$0\r\n\r\n$-1\r\n", "MGET", "k1", "k2", "k3");
        expect(client, "-ERR wrong number of arguments for 'mset' command\r\n", "MSET", "a", "1", "b");
        expect(client, "-ERR wrong number of arguments for 'mset' command\r\n", "MSET", "a");
        expect(client, "-ERR wrong number of arguments for 'mget' command\r\n", "MGET");
    }

    @Test
    void expireAndTtl() {
        expect(client, ":0\r\n", "EXPIRE", "none", "10");
        expect(client, "+OK\r\n", "SET", "k", "v");
        expect(client, ":-1\r\n", "TTL", "k");
        expect(client, ":1\r\n", "EXPIRE", "k", "100");
        expect(client, ":100\r\n", "TTL", "k");
        clock.advance(40_000);
        expect(client, ":60\r\n", "TTL", "k");
        expect(client, ":60000\r\n", "PTTL", "k");
        expect(client, ":1\r\n", "PEXPIRE", "k", "250");
        expect(client, ":250\r\n", "PTTL", "k");
        clock.advance(250);
        expect(client, ":-2\r\n", "TTL", "k");
        expect(client, "$-1\r\n", "GET", "k");
        expect(client, "+OK\r\n", "SET", "k", "v");
        expect(client, ":1\r\n", "EXPIRE", "k", "-1"); // a time in the past deletes the key
        expect(client, ":0\r\n", "EXISTS", "k");
        expect(client, "-ERR value is not an integer or out of range\r\n", "EXPIRE", "k", "soon");
        expect(client, "-ERR invalid expire time in 'expire' command\r\n", "EXPIRE", "k", "9223372036854775807");
        expect(client, "-ERR wrong number of arguments for 'expire' command\r\n", "EXPIRE", "k");
        expect(client, "-ERR wrong number of arguments for 'ttl' command\r\n", "TTL");
    }

    @Test
    void expiredKeysNobodyReadsAreSweptAway() {
        expect(client, "+OK\r\n", "SET", "a", "v", "PX", "100");
        expect(client, "+OK\r\n", "SET", "b", "v");
        expect(client, ":2\r\n", "DBSIZE");
        clock.advance(100);
        // the sweep runs every second on a worker; nothing reads "a" meanwhile
        Await.until("expired key swept", Duration.ofSeconds(5), () -> protocol.store().size() == 1);
        expect(client, ":1\r\n", "DBSIZE");
    }

    @Test
    void dbsizeAndFlushdb() {
        expect(client, ":0\r\n", "DBSIZE");
        expect(client, "+OK\r\n", "MSET", "a", "1", "b", "2");
        expect(client, ":2\r\n", "DBSIZE");
        expect(client, "-ERR wrong number of arguments for 'dbsize' command\r\n", "DBSIZE", "x");
        expect(client, "-ERR syntax error\r\n", "FLUSHDB", "LATER");
        expect(client, "+OK\r\n", "FLUSHDB");
        expect(client, ":0\r\n", "DBSIZE");
        expect(client, "+OK\r\n", "SET", "a", "1");
        expect(client, "+OK\r\n", "FLUSHDB", "ASYNC");
        expect(client, ":0\r\n", "DBSIZE");
    }

    @Test
    void quitAnswersOkClosesAndRunsNothingAfterIt() {
        client.send(bytes(cmd("SET", "before", "1") + cmd("QUIT") + cmd("SET", "after", "1")));
        assertEquals("+OK\r\n+OK\r\n", new String(client.readToEnd(), StandardCharsets.ISO_8859_1));
        assertArrayEquals(bytes("1"), protocol.store().get("before"));
        assertEquals(null, protocol.store().get("after"));
    }

    @Test
    void unknownCommandAndWrongArgumentCountAreShapedAsRedis() {
        expect(client, "-ERR unknown command 'FOO', with args beginning with: \r\n", "FOO");
        expect(client, "-ERR unknown command 'FOO', with args beginning with: 'a' 'b c' \r\n", "FOO", "a", "b c");
        // CR and LF in the echoed text become spaces (each one), so the error stays one line
        expect(client, "-ERR unknown command 'x y', with args beginning with: 'a  b' \r\n", "x\ny", "a\r\nb");
        String longArg = "z".repeat(200);
        expect(client, "-ERR unknown command 'FOO', with args beginning with: '" + "z".repeat(128) + "' \r\n",
                "FOO", longArg, "next");
        expect(client, "-ERR wrong number of arguments for 'get' command\r\n", "GET");
    }

    @Test
    void selectZeroAndStartupCommands() {
        expect(client, "+OK\r\n", "SELECT", "0");
        expect(client, "-ERR DB index is out of range\r\n", "SELECT", "1");
        expect(client, "-ERR value is not an integer or out of range\r\n", "SELECT", "x");
        expect(client, "*0\r\n", "COMMAND", "DOCS");
        expect(client, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n", "CONFIG", "GET", "save");
        expect(client, "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", "CONFIG", "GET", "appendonly");
        expect(client, "+OK\r\n", "CLIENT", "SETNAME", "me");
        expect(client, bulk("me"), "CLIENT", "GETNAME");
        client.send(bytes(cmd("INFO")));
        String header = client.readLine();
        assertTrue(header.startsWith("$"), header);
        String info = new String(client.readExactly(Integer.parseInt(header.substring(1)) + 2),
                StandardCharsets.US_ASCII);
        assertTrue(info.contains("redis_version:"), info);
        expect(client, "+PONG\r\n", "PING"); // still in step after the INFO body
    }
}
