package dev.serverframework.core;

import dev.serverframework.core.ConnectionTestSupport.Probe;
import dev.serverframework.core.testing.RawClient;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static dev.serverframework.core.ConnectionTestSupport.randomBytes;
import static dev.serverframework.core.ConnectionTestSupport.readExactly;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS through ServerBuilder.tls: an SslHandler first, protocols and sendFile over it, plaintext refused. */
class TlsTest {
    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir
    static Path keyDir;
    private static SslContext serverContext;
    private static SSLContext clientContext;

    @TempDir
    Path dir;
    private Server server;

    /** A throw-away EC key pair and self-signed certificate, made with the JDK's keytool. */
    @BeforeAll
    static void makeKeys() throws Exception {
        Path keystore = keyDir.resolve("ks.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1",
                "-alias", "test", "-dname", "CN=localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
        assertEquals(0, p.exitValue(), "keytool failed: " + output);

        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, PASSWORD);
        serverContext = SslContextBuilder.forServer(kmf).build();

        clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private Server start(Protocol protocol) {
        server = local(protocol).tls(serverContext).idleTimeout(Duration.ofSeconds(30)).build();
        return server.start();
    }

    private SSLSocket tlsClient() throws Exception {
        SSLSocket s = (SSLSocket) clientContext.getSocketFactory().createSocket("127.0.0.1", server.port());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    /** The SslHandler is first in the pipeline, the line protocol works over TLS, and isSecure() is true. */
    @Test
    void lineProtocolWorksOverTlsWithTheSslHandlerFirst() throws Exception {
        List<ChannelPipeline> pipelines = new CopyOnWriteArrayList<>();
        Probe p = new Probe("tls", (c, line) -> c.write("echo:" + line + " secure=" + c.isSecure() + "\n")) {
            @Override
            public void initPipeline(ChannelPipeline pipeline) {
                pipelines.add(pipeline);
                super.initPipeline(pipeline);
            }
        };
        start(p);
        try (SSLSocket s = tlsClient()) {
            Connection c = p.nextOpened();
            assertTrue(c.isSecure());
            ChannelPipeline pipeline = pipelines.get(0);
            ChannelHandler first = pipeline.first();
            assertTrue(first instanceof SslHandler, "first handler: " + first);
            assertEquals("sf-tls", pipeline.names().get(0));

            OutputStream out = s.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            out.write("hello\nwörld\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertEquals("echo:hello secure=true", in.readLine());
            assertEquals("echo:wörld secure=true", in.readLine());
        }
    }

    /** sendFile under TLS (chunked, not zero-copy) sends the exact bytes of the file and of a range. */
    @Test
    void sendFileWorksUnderTls() throws Exception {
        byte[] content = randomBytes(3 * 1024 * 1024 + 5, 77);
        Path file = dir.resolve("tls-data.bin");
        Files.write(file, content);
        int offset = 100_001;
        int length = 777_777;
        List<ChannelFuture> futures = new CopyOnWriteArrayList<>();
        Probe p = new Probe("tls-files", (c, line) -> {
            if (line.equals("whole")) {
                futures.add(c.sendFile(file));
            } else {
                futures.add(c.sendFile(file, offset, length));
                c.write("done\n");
            }
        });
        start(p);
        try (SSLSocket s = tlsClient()) {
            s.getOutputStream().write("whole\nrange\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            assertArrayEquals(content, readExactly(in, content.length), "whole file over TLS");
            assertArrayEquals(Arrays.copyOfRange(content, offset, offset + length), readExactly(in, length),
                    "range over TLS");
            assertEquals("done\n", new String(readExactly(in, 5), StandardCharsets.US_ASCII),
                    "a write after sendFile comes after the file");
            for (ChannelFuture f : futures) {
                assertTrue(f.await(10, TimeUnit.SECONDS) && f.isSuccess(), String.valueOf(f.cause()));
            }
        }
    }

    /** A plaintext client gets no protocol response and is disconnected; the protocol never sees its data. */
    @Test
    void aPlaintextClientIsRefused() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        Probe p = new Probe("tls-only", (c, line) -> {
            lines.add(line);
            c.write("echo:" + line + "\n");
        });
        start(p);
        try (RawClient plain = new RawClient(server.port())) {
            plain.send("hello\nhello again\n");
            byte[] reply = ConnectionTestSupport.readToEnd(plain.socket().getInputStream());
            assertFalse(new String(reply, StandardCharsets.ISO_8859_1).contains("echo"),
                    "the plaintext client got a protocol response");
            p.nextClosed();
            assertTrue(lines.isEmpty(), "the protocol got plaintext data: " + lines);
        }
        // The server goes on serving TLS clients.
        try (SSLSocket s = tlsClient()) {
            s.getOutputStream().write("ok\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("echo:ok", in.readLine());
        }
    }
}
