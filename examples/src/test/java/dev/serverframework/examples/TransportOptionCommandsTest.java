package dev.serverframework.examples;

import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --transport} on the server commands: the transport a server runs on, and a bad value refused. */
class TransportOptionCommandsTest {
    private ChildCommand child;

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.close();
        }
    }

    /**
     * httpd started with {@code --transport T} says on its startup line which transport it really got,
     * and serves. io_uring gets io_uring where this machine allows it, epoll (after a warning) where not.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "nio"})
    void httpdRunsOnTheTransportItIsGivenAndServes(String transport) throws Exception {
        String expected = transport.equals("io_uring") && !IoUring.isAvailable() ? "epoll" : transport;
        child = ChildCommand.start("httpd", "--transport", transport, "--no-metrics", "--io-threads", "1",
                "--workers", "1");
        assertTrue(child.log().contains("(transport " + expected + ","), child.log());
        String reply = get(child.port());
        assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n"), reply);
        assertTrue(reply.endsWith("\r\n\r\nHello World!"), reply);
    }

    @Test
    void aBadTransportIsAUsageErrorNamingTheOptionBeforeAnythingStarts() {
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        int status = new CommandLine(new Main()).setErr(new PrintWriter(err)).setOut(new PrintWriter(out))
                .execute("httpd", "--transport", "uring", "--port", "0", "--bind", "127.0.0.1");
        assertEquals(2, status, "picocli's status for a usage error");
        assertTrue(err.toString().contains("--transport"), err.toString());
        assertTrue(err.toString().contains("'uring'"), err.toString());
        assertTrue(err.toString().contains("auto, epoll, io_uring, nio"), err.toString());
        assertTrue(!out.toString().contains("listening") && !err.toString().contains("listening"),
                "nothing started: " + out + err);
    }

    /** One HTTP/1.0 GET / on a plain socket; the whole reply, up to the server's end of stream. */
    private static String get(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            in.transferTo(reply);
            return reply.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
