package dev.serverframework.examples.kv;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared test support: RESP request encoding, a server on an ephemeral port, exact-reply checks. */
final class KvTestSupport {
    private KvTestSupport() {
    }

    /** A manual clock for deterministic expiry: starts at a fixed time, moves only when told. */
    static final class ManualClock {
        final AtomicLong millis = new AtomicLong(1_700_000_000_000L);

        long now() {
            return millis.get();
        }

        void advance(long ms) {
            millis.addAndGet(ms);
        }
    }

    /** A kv server on 127.0.0.1 and an ephemeral port. */
    static Server start(KvProtocol protocol) {
        return Server.builder().port(0).bindAddress("127.0.0.1").ioThreads(2).workers(2).shutdownHook(false)
                .idleTimeout(Duration.ZERO).protocol(protocol).build().start();
    }

    /** The RESP array-of-bulk-strings encoding of a command, as client libraries send it. */
    static String cmd(String... words) {
        StringBuilder b = new StringBuilder("*").append(words.length).append("\r\n");
        for (String w : words) {
            b.append('$').append(w.getBytes(StandardCharsets.ISO_8859_1).length).append("\r\n").append(w).append("\r\n");
        }
        return b.toString();
    }

    /** {@link #cmd} as bytes (ISO-8859-1: chars 0-255 are the bytes 0-255). */
    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Concatenates byte arrays. */
    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Reads exactly as many bytes as {@code expected} has and compares them. */
    static void expectReply(RawClient client, String expected) {
        byte[] want = bytes(expected);
        String got = new String(client.readExactly(want.length), StandardCharsets.ISO_8859_1);
        assertEquals(expected, got);
    }

    /** Sends one command and checks its exact reply. */
    static void expect(RawClient client, String expectedReply, String... command) {
        client.send(bytes(cmd(command)));
        expectReply(client, expectedReply);
    }

    /** A bulk string reply. */
    static String bulk(String s) {
        return "$" + bytes(s).length + "\r\n" + s + "\r\n";
    }
}
