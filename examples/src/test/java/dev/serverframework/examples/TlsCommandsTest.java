package dev.serverframework.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
        assertRuntimeError("--tls-key " + cert.cert() + " holds no PEM private key (BEGIN PRIVATE KEY, "
                        + "BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)",
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

    /** What {@code openssl ecparam -genkey -name prime256v1} writes before the key. */
    private static final String EC_PARAMETERS = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
            + "-----END EC PARAMETERS-----\n";

    /** The key formats users have: each serves TLS to a real client that trusts the certificate only. */
    @ParameterizedTest
    @ValueSource(strings = {"PKCS#1 RSA", "SEC1 EC", "EC PARAMETERS then SEC1 EC", "PKCS#8 RSA"})
    void everyUnencryptedKeyFormatServesTls(String format, @TempDir Path dir) throws Exception {
        KeyPair keys = format.contains("RSA") ? TestKeys.rsa() : TestKeys.ec();
        X509Certificate certificate = TestKeys.selfSigned(keys);
        String key = switch (format) {
            case "PKCS#1 RSA" -> TestKeys.pem(keys.getPrivate());
            case "SEC1 EC" -> TestKeys.sec1(keys);
            case "EC PARAMETERS then SEC1 EC" -> EC_PARAMETERS + TestKeys.sec1(keys);
            default -> TestKeys.pkcs8(keys.getPrivate());
        };
        String header = switch (format) {
            case "PKCS#1 RSA" -> "-----BEGIN RSA PRIVATE KEY-----";
            case "PKCS#8 RSA" -> "-----BEGIN PRIVATE KEY-----";
            default -> "-----BEGIN EC PRIVATE KEY-----";
        };
        assertTrue(key.contains(header), key);
        Path certFile = Files.writeString(dir.resolve("cert.pem"), TestKeys.pem(certificate));
        Path keyFile = Files.writeString(dir.resolve("key.pem"), key);
        assertServesTls(certFile, keyFile, certificate);
    }

    /** The very files {@code openssl ecparam -genkey} and {@code openssl req -x509} write. */
    @Test
    void opensslEcparamGenkeyOutputServesTls(@TempDir Path dir) throws Exception {
        assumeTrue(Path.of("/usr/bin/openssl").toFile().canExecute() || onPath("openssl"),
                "openssl is not installed: the BouncyCastle-written formats are tested without it");
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        openssl(dir, "ecparam", "-genkey", "-name", "prime256v1", "-out", key.toString());
        openssl(dir, "req", "-x509", "-key", key.toString(), "-days", "30", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-out", cert.toString());
        assertTrue(Files.readString(key).startsWith("-----BEGIN EC PARAMETERS-----"), Files.readString(key));
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(cert)));
        assertServesTls(cert, key, certificate);
    }

    /** Neither kind of encrypted key can be used without its passphrase: the error gives the command that decrypts it. */
    @Test
    void anEncryptedKeyIsARuntimeErrorGivingTheCommandToDecryptIt(@TempDir Path dir) throws Exception {
        KeyPair keys = TestKeys.ec();
        Path cert = Files.writeString(dir.resolve("cert.pem"), TestKeys.pem(TestKeys.selfSigned(keys)));
        Path pkcs8 = Files.writeString(dir.resolve("key.pem"), TestKeys.encryptedPkcs8(keys.getPrivate()));
        assertTrue(Files.readString(pkcs8).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assertRuntimeError("--tls-key " + pkcs8 + " holds an encrypted private key, and the server cannot ask for its "
                + "passphrase; decrypt it (keep the file private): openssl pkcs8 -topk8 -nocrypt -in " + pkcs8
                + " -out " + dir.resolve("key-unencrypted.pem"), "httpd", "--tls-cert", cert.toString(), "--tls-key",
                pkcs8.toString());
        Path traditional = Files.writeString(dir.resolve("old.key"), TestKeys.encryptedTraditional(keys.getPrivate()));
        assertTrue(Files.readString(traditional).contains("Proc-Type: 4,ENCRYPTED"));
        assertRuntimeError("--tls-key " + traditional + " holds an encrypted private key, and the server cannot ask "
                + "for its passphrase; decrypt it (keep the file private): openssl pkcs8 -topk8 -nocrypt -in "
                + traditional + " -out " + dir.resolve("old.key-unencrypted.pem"), "echo", "--tls-cert",
                cert.toString(), "--tls-key", traditional.toString());
    }

    /**
     * One file with the chain and the key (cat cert key): accepted when given to both options, as nginx accepts
     * it for ssl_certificate and ssl_certificate_key; refused, saying so, when --tls-key names another file.
     */
    @Test
    void aCertificateFileThatAlsoHoldsTheKey(@TempDir Path dir) throws Exception {
        KeyPair keys = TestKeys.rsa();
        X509Certificate certificate = TestKeys.selfSigned(keys);
        Path both = Files.writeString(dir.resolve("both.pem"), TestKeys.pem(certificate) + TestKeys.pem(keys.getPrivate()));
        Path key = Files.writeString(dir.resolve("key.pem"), TestKeys.pkcs8(keys.getPrivate()));
        assertRuntimeError("--tls-cert " + both + " also holds a private key; give it to --tls-key (or give " + both
                + " to both --tls-cert and --tls-key)", "httpd", "--tls-cert", both.toString(), "--tls-key", key.toString());
        assertServesTls(both, both, certificate);
    }

    /** The key of the second certificate in the file: the chain is in the wrong order, not the wrong key. */
    @Test
    void aChainInTheWrongOrderSaysToPutTheServersCertificateFirst(@TempDir Path dir) throws Exception {
        KeyPair caKeys = TestKeys.ec();
        KeyPair serverKeys = TestKeys.ec();
        Instant now = Instant.now();
        X509Certificate ca = TestKeys.certificate("CN=Test CA", caKeys, "CN=Test CA", caKeys.getPrivate(),
                now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)), true);
        X509Certificate server = TestKeys.certificate("CN=localhost", serverKeys, "CN=Test CA", caKeys.getPrivate(),
                now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)), false);
        Path key = Files.writeString(dir.resolve("key.pem"), TestKeys.pkcs8(serverKeys.getPrivate()));
        Path wrong = Files.writeString(dir.resolve("wrong.pem"), TestKeys.pem(ca, server));
        assertRuntimeError("--tls-cert " + wrong + " has the certificate of --tls-key " + key + " in position 2 of 2: "
                + "put the server's certificate first, then the certificates that signed it",
                "kv", "--tls-cert", wrong.toString(), "--tls-key", key.toString());
        Path right = Files.writeString(dir.resolve("right.pem"), TestKeys.pem(server, ca));
        TlsCertificates.Pair pair = TlsCertificates.read(right, key);
        assertEquals(List.of(server, ca), List.of(pair.chain()));
    }

    /** Every client would refuse the certificate: the server refuses to start, naming the dates. */
    @Test
    void anExpiredOrNotYetValidCertificateIsARuntimeErrorNamingTheDates(@TempDir Path dir) throws Exception {
        KeyPair keys = TestKeys.ec();
        Path key = Files.writeString(dir.resolve("key.pem"), TestKeys.pkcs8(keys.getPrivate()));
        Instant from = Instant.parse("2020-01-01T00:00:00Z");
        Instant to = Instant.parse("2021-01-01T00:00:00Z");
        Path expired = Files.writeString(dir.resolve("expired.pem"), TestKeys.pem(TestKeys.certificate("CN=localhost",
                keys, "CN=localhost", keys.getPrivate(), from, to, false)));
        assertRuntimeError("--tls-cert " + expired + ": the server's certificate expired on 2021-01-01T00:00:00Z "
                + "(valid from 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z)",
                "httpd", "--tls-cert", expired.toString(), "--tls-key", key.toString());
        Instant later = Instant.now().plus(Duration.ofDays(10)).truncatedTo(ChronoUnit.SECONDS);
        Instant end = later.plus(Duration.ofDays(365));
        Path future = Files.writeString(dir.resolve("future.pem"), TestKeys.pem(TestKeys.certificate("CN=localhost",
                keys, "CN=localhost", keys.getPrivate(), later, end, false)));
        assertRuntimeError("--tls-cert " + future + ": the server's certificate is not valid before " + later
                + " (valid from " + later + " to " + end + "; is this machine's clock right?)",
                "echo", "--tls-cert", future.toString(), "--tls-key", key.toString());
    }

    /** httpd with these files answers a real TLS client that trusts {@code certificate} only. */
    private static void assertServesTls(Path cert, Path key, X509Certificate certificate) throws Exception {
        try (ChildCommand httpd = ChildCommand.start("httpd", "--tls-cert", cert.toString(), "--tls-key", key.toString(),
                "--io-threads", "1", "--workers", "1")) {
            assertTrue(httpd.log().contains("(TLS, certificate SHA-256 " + TlsCertificates.fingerprint(certificate)),
                    httpd.log());
            HttpClient client = HttpClient.newBuilder()
                    .sslContext(new TestCertificate(cert, key, certificate).clientContext()).build();
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + httpd.port() + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("Hello World!", response.body());
        }
    }

    private static boolean onPath(String program) {
        return java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(d -> Path.of(d, program).toFile().canExecute());
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "openssl did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + Files.readString(log));
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
