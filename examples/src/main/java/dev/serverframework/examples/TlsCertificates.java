package dev.serverframework.examples;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The certificates of {@link TlsOptions}: read from PEM files, with errors that name the file, or generated
 * for localhost. Stateless; any thread.
 */
final class TlsCertificates {
    /** A private key and its certificate chain, the key's certificate first. */
    record Pair(PrivateKey key, X509Certificate[] chain) {
    }

    private TlsCertificates() {
    }

    /**
     * A new EC P-256 key and a certificate for it, signed by itself, valid from a day ago for a year, for the
     * names a user on this machine types: {@code localhost}, {@code 127.0.0.1} and {@code ::1}.
     */
    static Pair selfSigned() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256);
            KeyPair keys = generator.generateKeyPair();
            X500Name name = new X500Name("CN=localhost");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(365))), name, keys.getPublic());
            // Clients check the host they connect to against these names, not against the CN.
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.iPAddress, "::1")}));
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            return new Pair(keys.getPrivate(), new X509Certificate[] {cert});
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot make a self-signed certificate: " + e.getMessage(), e);
        }
    }

    /**
     * The chain in {@code certFile} and the key in {@code keyFile}, checked to belong together.
     *
     * @throws IllegalStateException naming the file that cannot be read, holds no PEM certificate or
     *                               private key, or whose key does not match the certificate
     */
    static Pair read(Path certFile, Path keyFile) {
        X509Certificate[] chain = readChain(certFile);
        PrivateKey key = readKey(keyFile);
        if (!matches(key, chain[0].getPublicKey())) {
            throw new IllegalStateException("--tls-key " + keyFile + " is not the private key of the certificate in --tls-cert "
                    + certFile);
        }
        return new Pair(key, chain);
    }

    /** The SHA-256 of the certificate's DER bytes as {@code openssl x509 -fingerprint -sha256} prints it. */
    static String fingerprint(X509Certificate cert) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate[] readChain(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            var certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IllegalStateException("--tls-cert " + file + " holds no PEM certificate");
            }
            return certs.stream().map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
        } catch (IOException e) {
            throw unreadable("--tls-cert", file, e);
        } catch (CertificateException e) {
            throw new IllegalStateException("--tls-cert " + file + " holds no valid PEM certificate: " + e.getMessage(), e);
        }
    }

    private static PrivateKey readKey(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw unreadable("--tls-key", file, e);
        }
        Object pem;
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            pem = parser.readObject();
        } catch (IOException e) {
            throw new IllegalStateException("--tls-key " + file + " holds no valid PEM private key: " + e.getMessage(), e);
        }
        if (!(pem instanceof PrivateKeyInfo info)) {
            throw new IllegalStateException("--tls-key " + file + " holds no unencrypted PKCS#8 PEM private key "
                    + "(-----BEGIN PRIVATE KEY-----)");
        }
        try {
            return new JcaPEMKeyConverter().getPrivateKey(info);
        } catch (IOException e) {
            throw new IllegalStateException("--tls-key " + file + " holds a private key this JVM cannot use: "
                    + e.getMessage(), e);
        }
    }

    /** Whether {@code key} signs what {@code pub} verifies: the one test that works for every key type. */
    private static boolean matches(PrivateKey key, PublicKey pub) {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm().toUpperCase(Locale.ROOT)) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519 and Ed448 sign under their own names
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(pub);
            verifier.update(challenge);
            return verifier.verify(signer.sign());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static IllegalStateException unreadable(String option, Path file, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file"
                : e instanceof AccessDeniedException ? "permission denied" : e.getMessage();
        return new IllegalStateException("cannot read " + option + " " + file + ": " + why, e);
    }
}
