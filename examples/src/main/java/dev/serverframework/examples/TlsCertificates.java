package dev.serverframework.examples;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import java.io.IOException;
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
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
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
     * The chain in {@code certFile} and the key in {@code keyFile}, checked to belong together and the
     * server's certificate to be valid now. Both may name one file holding the chain and the key, as nginx's
     * {@code ssl_certificate} and {@code ssl_certificate_key} may.
     *
     * @throws IllegalStateException naming the file that cannot be read, holds no PEM certificate or no
     *                               usable private key (an encrypted one: with the command that decrypts
     *                               it), a key in the certificate file that {@code keyFile} is not, a key
     *                               that matches no certificate or not the first, or a server certificate
     *                               outside its validity dates
     */
    static Pair read(Path certFile, Path keyFile) {
        boolean oneFile = sameFile(certFile, keyFile);
        X509Certificate[] chain = readChain(certFile, oneFile);
        PrivateKey key = readKey(keyFile);
        if (!matches(key, chain[0].getPublicKey())) {
            for (int i = 1; i < chain.length; i++) {
                if (matches(key, chain[i].getPublicKey())) {
                    throw new IllegalStateException("--tls-cert " + certFile + " has the certificate of --tls-key "
                            + keyFile + " in position " + (i + 1) + " of " + chain.length + ": put the server's "
                            + "certificate first, then the certificates that signed it");
                }
            }
            throw new IllegalStateException("--tls-key " + keyFile + " is not the private key of the certificate in "
                    + "--tls-cert " + certFile);
        }
        checkValidity(certFile, chain[0]);
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

    /** An expired or not yet valid server certificate: every client would refuse it, so refuse it at start. */
    private static void checkValidity(Path certFile, X509Certificate cert) {
        Instant now = Instant.now();
        Instant from = cert.getNotBefore().toInstant();
        Instant to = cert.getNotAfter().toInstant();
        if (now.isAfter(to)) {
            throw new IllegalStateException("--tls-cert " + certFile + ": the server's certificate expired on " + to
                    + " (valid from " + from + " to " + to + ")");
        }
        if (now.isBefore(from)) {
            throw new IllegalStateException("--tls-cert " + certFile + ": the server's certificate is not valid "
                    + "before " + from + " (valid from " + from + " to " + to + "; is this machine's clock right?)");
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    /** Every PEM object of {@code file}, in order; a private key's PEM structure as the parser gives it. */
    private static List<Object> readPem(String option, Path file, String what) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1); // any byte: a binary file holds no PEM
        } catch (IOException e) {
            throw unreadable(option, file, e);
        }
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                objects.add(o);
            }
        } catch (IOException | RuntimeException e) { // a bad block: BouncyCastle throws both kinds
            throw new IllegalStateException(option + " " + file + " holds no valid " + what + ": " + e.getMessage(), e);
        }
        return objects;
    }

    private static boolean isPrivateKey(Object pem) {
        return pem instanceof PrivateKeyInfo || pem instanceof PEMKeyPair || pem instanceof PEMEncryptedKeyPair
                || pem instanceof PKCS8EncryptedPrivateKeyInfo;
    }

    /**
     * The certificates of {@code file}, in order. A private key there is refused unless {@code --tls-key}
     * names the same file: a key is easily copied along with a certificate file nobody thinks is secret.
     */
    private static X509Certificate[] readChain(Path file, boolean keyFileToo) {
        List<X509Certificate> certs = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object pem : readPem("--tls-cert", file, "PEM certificate")) {
            if (pem instanceof X509CertificateHolder holder) {
                try {
                    certs.add(converter.getCertificate(holder));
                } catch (CertificateException e) {
                    throw new IllegalStateException("--tls-cert " + file + " holds no valid PEM certificate: "
                            + e.getMessage(), e);
                }
            } else if (isPrivateKey(pem) && !keyFileToo) {
                throw new IllegalStateException("--tls-cert " + file + " also holds a private key; give it to "
                        + "--tls-key (or give " + file + " to both --tls-cert and --tls-key)");
            }
        }
        if (certs.isEmpty()) {
            throw new IllegalStateException("--tls-cert " + file + " holds no PEM certificate");
        }
        return certs.toArray(X509Certificate[]::new);
    }

    /**
     * The one private key of {@code file}: PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE
     * KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}, after the {@code EC PARAMETERS} that {@code openssl ecparam
     * -genkey} writes first); other blocks (certificates, parameters) are skipped.
     */
    private static PrivateKey readKey(Path file) {
        List<Object> keys = readPem("--tls-key", file, "PEM private key").stream()
                .filter(TlsCertificates::isPrivateKey).toList();
        if (keys.isEmpty()) {
            throw new IllegalStateException("--tls-key " + file + " holds no PEM private key (BEGIN PRIVATE KEY, "
                    + "BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
        }
        if (keys.size() > 1) {
            throw new IllegalStateException("--tls-key " + file + " holds " + keys.size() + " private keys; "
                    + "keep only the one of the certificate");
        }
        Object pem = keys.get(0);
        if (pem instanceof PKCS8EncryptedPrivateKeyInfo || pem instanceof PEMEncryptedKeyPair) {
            throw new IllegalStateException("--tls-key " + file + " holds an encrypted private key, and the server "
                    + "cannot ask for its passphrase; decrypt it (keep the file private): openssl pkcs8 -topk8 "
                    + "-nocrypt -in " + file + " -out " + decryptedName(file));
        }
        try {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            // Of a PKCS#1 or SEC1 pair, the private part only: SEC1's public key is optional, often absent.
            return converter.getPrivateKey(pem instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo() : (PrivateKeyInfo) pem);
        } catch (IOException e) {
            throw new IllegalStateException("--tls-key " + file + " holds a private key this JVM cannot use: "
                    + e.getMessage(), e);
        }
    }

    /** Where the decrypted copy of {@code key} goes: beside it, {@code key.pem} to {@code key-unencrypted.pem}. */
    private static Path decryptedName(Path key) {
        String name = key.getFileName().toString();
        String base = name.endsWith(".pem") ? name.substring(0, name.length() - 4) : name;
        return key.resolveSibling(base + "-unencrypted.pem");
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
