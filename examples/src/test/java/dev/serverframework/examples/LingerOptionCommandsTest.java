package dev.serverframework.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code --linger-timeout} on the server commands: with 0 the server closes its socket as soon as the answer
 * is out, as raw Netty does, instead of reading on until the client closes.
 */
class LingerOptionCommandsTest {
    private ChildCommand child;

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.close();
        }
    }

    /**
     * The client keeps its socket open after the answer and its end of stream and writes again: a socket the
     * server has fully closed answers that with a reset, where a lingering one would read and discard it.
     */
    @Test
    void withZeroTheServerClosesWithoutWaitingForTheClient() throws Exception {
        child = ChildCommand.start("httpd", "--linger-timeout", "0", "--no-metrics", "--io-threads", "1",
                "--workers", "1");
        try (Socket s = new Socket("127.0.0.1", child.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            in.transferTo(reply);
            String text = reply.toString(StandardCharsets.ISO_8859_1);
            assertTrue(text.startsWith("HTTP/1.1 200 OK\r\n") && text.endsWith("Hello World!"), text);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                try {
                    out.write("late\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    if (in.read() >= 0) {
                        fail("the server sent more after its end of stream");
                    }
                } catch (SocketException reset) {
                    return; // the server's socket is gone: it did not linger
                } catch (IOException e) {
                    fail("unexpected " + e);
                }
            }
            fail("the server still read the client's input 10 s after its answer: it lingered");
        }
    }
}
