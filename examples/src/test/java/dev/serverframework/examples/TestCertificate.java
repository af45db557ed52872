package dev.serverframework.examples;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Base64;

/**
 * A certificate for localhost and 127.0.0.1 and its key, made by the same generator as
 * {@code --tls-self-signed} and written as the PEM files {@code --tls-cert} and {@code --tls-key} take, with
 * a client {@link SSLContext} that trusts it and nothing else.
 */
record TestCertificate(Path cert, Path key, X509Certificate certificate) {

    /** Writes {@code cert.pem} and {@code key.pem} (PKCS#8) into {@code dir}. */
    static TestCertificate write(Path dir) throws IOException {
        TlsCertificates.Pair pair = TlsCertificates.selfSigned();
        X509Certificate certificate = pair.chain()[0];
        try {
            Path cert = Files.writeString(dir.resolve("cert.pem"), pem("CERTIFICATE", certificate.getEncoded()));
            Path key = Files.writeString(dir.resolve("key.pem"), pem("PRIVATE KEY", pair.key().getEncoded()));
            return new TestCertificate(cert, key, certificate);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client context that trusts this certificate only. */
    SSLContext clientContext() throws GeneralSecurityException, IOException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("test", certificate);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
