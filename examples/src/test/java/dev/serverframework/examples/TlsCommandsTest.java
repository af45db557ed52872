package dev.serverframework.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --tls-cert}/{@code --tls-key} and {@code --tls-self-signed} on the server commands, with real TLS
 * clients that trust the test certificate only; and files that cannot be used, which are runtime errors
 * naming the file before anything listens.
 */
class TlsCommandsTest {
    private ChildCommand child;

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.close();
        }
    }

    @Test
    void httpdServesHttpsWithTheGivenCertificate(@TempDir Path dir) throws Exception {
        TestCertificate cert = TestCertificate.write(dir);
        child = ChildCommand.start("httpd", "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString(),
                "--io-threads", "1", "--workers", "1");
        assertTrue(child.log().contains("(TLS, certificate SHA-256 " + TlsCertificates.fingerprint(cert.certificate())),
                child.log());
        HttpClient client = HttpClient.newBuilder().sslContext(cert.clientContext()).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + child.port() + "/")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertEquals("Hello World!", response.body());
    }

    /** The fingerprint on the start-up line is the one of the certificate the server presents: a user can pin it. */
    @Test
    void echoWithASelfSignedCertificatePrintsItsFingerprintAndEchoesOverTls() throws Exception {
        child = ChildCommand.start("echo", "--tls-self-signed", "--io-threads", "1", "--workers", "1");
        Matcher printed = Pattern.compile("self-signed certificate SHA-256 ([0-9A-F:]{95})").matcher(child.log());
        assertTrue(printed.find(), child.log());
        try (SSLSocket socket = (SSLSocket) TrustAll.context().getSocketFactory().createSocket("127.0.0.1", child.port())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            X509Certificate presented = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            assertEquals(printed.group(1), TlsCertificates.fingerprint(presented));
            OutputStream out = socket.getOutputStream();
            out.write("hello over TLS\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] expected = "hello over TLS\n".getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(expected, socket.getInputStream().readNBytes(expected.length));
        }
    }

    @Test
    void kvAnswersOverTls(@TempDir Path dir) throws Exception {
        TestCertificate cert = TestCertificate.write(dir);
        child = ChildCommand.start("kv", "--tls-cert", cert.cert().toString(), "--tls-key", cert.key().toString(),
                "--io-threads", "1", "--workers", "1");
        try (SSLSocket socket = (SSLSocket) cert.clientContext().getSocketFactory().createSocket("127.0.0.1", child.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            assertEquals("+PONG\r\n", new String(in.readNBytes(7), StandardCharsets.US_ASCII));
        }
    }

    /** The chat page over https opens its WebSocket as wss://, which works with the same certificate. */
    @Test
    void chatWebPageAndWebSocketWorkOverTls(@TempDir Path dir) throws Exception {
        TestCertificate cert = TestCertificate.write(dir);
        try (ChatServers chat = ChatServers.start("--tls-cert", cert.cert().toString(), "--tls-key",
                cert.key().toString())) {
            HttpClient client = HttpClient.newBuilder().sslContext(cert.clientContext()).build();
            URI page = URI.create(chat.http("/").toString().replace("http://", "https://"));
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(page).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertTrue(response.body().contains("location.protocol === 'https:' ? 'wss://'"), response.body());
            URI wss = URI.create(chat.ws().toString().replace("ws://", "wss://"));
            try (WsClient member = WsClient.connect(client, wss, Long.MAX_VALUE)) {
                member.send("/nick tls-member");
                member.send("/who");
                String line;
                do {
                    line = member.line();
                } while (!line.contains("tls-member"));
            }
        }
    }

    @Test
    void aFileThatIsNotPemIsARuntimeErrorNamingItAndNothingListens(@TempDir Path dir) throws Exception {
        TestCertificate cert = TestCertificate.write(dir);
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                + "-----END CERTIFICATE-----\n");
        assertRuntimeError("--tls-cert " + garbage + " holds no valid PEM certificate",
                "httpd", "--tls-cert", garbage.toString(), "--tls-key", cert.key().toString());
        assertRuntimeError("--tls-key " + cert.cert() + " holds no unencrypted PKCS#8 PEM private key",
                "echo", "--tls-cert", cert.cert().toString(), "--tls-key", cert.cert().toString());
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertRuntimeError("--tls-cert " + empty + " holds no PEM certificate",
                "kv", "--tls-cert", empty.toString(), "--tls-key", cert.key().toString());
    }

    @Test
    void aMissingFileIsARuntimeErrorNamingIt(@TempDir Path dir) throws Exception {
        TestCertificate cert = TestCertificate.write(dir);
        Path missing = dir.resolve("missing.pem");
        assertRuntimeError("cannot read --tls-key " + missing + ": no such file",
                "chat", "--http-port", "0", "--tls-cert", cert.cert().toString(), "--tls-key", missing.toString());
    }

    @Test
    void aKeyOfAnotherCertificateIsARuntimeError(@TempDir Path dir) throws Exception {
        TestCertificate one = TestCertificate.write(Files.createDirectory(dir.resolve("one")));
        TestCertificate other = TestCertificate.write(Files.createDirectory(dir.resolve("other")));
        assertRuntimeError("--tls-key " + other.key() + " is not the private key of the certificate in --tls-cert "
                + one.cert(), "httpd", "--tls-cert", one.cert().toString(), "--tls-key", other.key().toString());
    }

    /** Trusts any certificate: the test then pins the one presented by its fingerprint, as a user would. */
    private static final class TrustAll implements X509TrustManager {
        static SSLContext context() throws Exception {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustAll()}, null);
            return context;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** {@code args} end in one "error: ..." line starting with {@code message}, status 1, nothing started. */
    private static void assertRuntimeError(String message, String... args) {
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("--port", "0", "--bind", "127.0.0.1")).toArray(String[]::new);
        CliTest.Run r = CliTest.run(all);
        assertEquals(1, r.status(), r.all());
        assertTrue(r.err().startsWith("error: " + message), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(r.all().contains("listening"), r.all());
    }
}
