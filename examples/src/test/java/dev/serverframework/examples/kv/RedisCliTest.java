package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real redis-cli (Debian's redis-tools; .ci/run installs it) against a kv server. */
class RedisCliTest {
    private Server server;

    @BeforeAll
    static void redisCliIsInstalled() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "command -v redis-cli").start();
        // .ci/run installs it, so CI always runs these; a bare `mvn verify` elsewhere skips them.
        Assumptions.assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0,
                "redis-cli is missing: apt-get install redis-tools (.ci/run does)");
    }

    @BeforeEach
    void start() {
        server = KvTestSupport.start(KvProtocol.builder().build());
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.stop();
        server.awaitTermination();
    }

    /** Runs redis-cli with the arguments; returns its output (stdout and stderr). */
    private String cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p",
                Integer.toString(server.port())));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("redis-cli " + String.join(" ", args) + " did not finish");
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    @Test
    void everyCommandThroughRedisCli() throws Exception {
        assertEquals("PONG", cli("PING"));
        assertEquals("hi there", cli("ECHO", "hi there"));
        assertEquals("OK", cli("SET", "k", "v"));
        assertEquals("v", cli("GET", "k"));
        assertEquals("", cli("GET", "missing")); // redis-cli prints nil as an empty line when not on a tty
        assertEquals("OK", cli("SET", "t", "1", "EX", "100"));
        assertEquals("", cli("SET", "t", "2", "NX"));
        assertEquals("OK", cli("SET", "t", "3", "XX", "PX", "100000"));
        assertEquals("100", cli("TTL", "t"));
        assertEquals("1", cli("EXPIRE", "k", "50"));
        assertEquals("50", cli("TTL", "k"));
        assertEquals("4", cli("INCR", "t"));
        assertEquals("3", cli("DECR", "t"));
        assertEquals("OK", cli("MSET", "a", "1", "b", "2"));
        assertEquals("1\n2\n", cli("MGET", "a", "b", "c") + "\n");
        assertEquals("2", cli("EXISTS", "a", "b"));
        assertEquals("1", cli("DEL", "a"));
        assertEquals("3", cli("DBSIZE")); // t, k, b
        assertEquals("OK", cli("FLUSHDB"));
        assertEquals("0", cli("DBSIZE"));
        assertEquals("OK", cli("SET", "s", "abc"));
        assertEquals("ERR value is not an integer or out of range", cli("INCR", "s"));
        assertEquals("ERR wrong number of arguments for 'get' command", cli("GET"));
        assertEquals("ERR unknown command 'FOO', with args beginning with: 'bar'", cli("FOO", "bar"));
        assertEquals("OK", cli("QUIT"));
    }

    @Test
    void publishAndSubscribeBetweenTwoRedisClis() throws Exception {
        Process sub = new ProcessBuilder("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(server.port()),
                "SUBSCRIBE", "news").redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(sub.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process was stopped
            }
        }, "redis-cli-subscriber-output");
        reader.start();
        try {
            assertEquals(List.of("subscribe", "news", "1"), take(lines, 3));
            assertEquals("1", cli("PUBLISH", "news", "hello from redis-cli"));
            assertEquals(List.of("message", "news", "hello from redis-cli"), take(lines, 3));
            assertEquals("0", cli("PUBLISH", "other", "nobody"));
        } finally {
            sub.destroy();
            assertTrue(sub.waitFor(10, TimeUnit.SECONDS));
            reader.join(10_000);
        }
    }

    private static List<String> take(BlockingQueue<String> lines, int n) throws InterruptedException {
        List<String> got = new ArrayList<>();
        while (got.size() < n) {
            String line = lines.poll(10, TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("redis-cli printed only " + got + " within 10 s");
            }
            got.add(line);
        }
        return got;
    }
}
