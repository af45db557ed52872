package dev.serverframework.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code printf REQUEST | socat - TCP:host:port} against the example servers in a JVM of their own:
 * socat sends its input, shuts down its side (a half-close, as {@code nc -N} does) and prints what comes
 * back until the server closes. Every server answers everything it was sent before the half-close.
 * (httpd in its default worker mode used to answer nothing at all here.)
 */
class HalfCloseCommandsTest {
    private ChildCommand child;

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.close();
        }
    }

    @Test
    void httpdInWorkerModeAnswersAHalfClosedHttp10Client(@TempDir Path dir) throws Exception {
        String reply = socat(dir, "GET / HTTP/1.0\r\n\r\n", "httpd", "--mode", "worker", "--no-metrics");
        assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n"), reply);
        assertTrue(reply.endsWith("\r\n\r\nHello World!"), reply);
    }

    @Test
    void httpdInIoModeAnswersEveryPipelinedRequestBeforeTheHalfClose(@TempDir Path dir) throws Exception {
        String request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        String reply = socat(dir, request.repeat(3), "httpd", "--mode", "io", "--no-metrics");
        assertEquals(3, reply.split("HTTP/1.1 200 OK\r\n", -1).length - 1, reply);
        assertTrue(reply.endsWith("Hello World!"), reply);
    }

    @Test
    void kvAnswersEveryCommandBeforeTheHalfClose(@TempDir Path dir) throws Exception {
        String reply = socat(dir, "SET greeting hello\r\nGET greeting\r\nPING\r\n", "kv");
        assertEquals("+OK\r\n$5\r\nhello\r\n+PONG\r\n", reply);
    }

    @Test
    void chatAnswersTheLinesSentBeforeTheHalfClose(@TempDir Path dir) throws Exception {
        String reply = socat(dir, "/nick bob\n/who\n", "chat");
        String[] lines = reply.split("\n");
        assertEquals(3, lines.length, reply);
        assertTrue(lines[0].startsWith("* welcome, you are guest-"), reply);
        assertEquals("* you are now bob", lines[1]);
        assertEquals("* 1 online: bob", lines[2]);
    }

    /** Starts the command, pipes {@code input} through socat to it, returns what socat printed. */
    private String socat(Path dir, String input, String... command) throws Exception {
        child = ChildCommand.start(command);
        return new String(Socat.pipe(dir, input.getBytes(StandardCharsets.ISO_8859_1), child.port()),
                StandardCharsets.ISO_8859_1);
    }
}
