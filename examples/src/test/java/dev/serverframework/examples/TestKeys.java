package dev.serverframework.examples;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Keys and certificates for the TLS tests, made with BouncyCastle and written in the PEM formats users
 * have: PKCS#8, PKCS#1 ({@code RSA PRIVATE KEY}), SEC1 ({@code EC PRIVATE KEY}), encrypted both ways.
 */
final class TestKeys {
    private TestKeys() {
    }

    static KeyPair rsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    /** A certificate for localhost and 127.0.0.1 valid for a year from a day ago, signed by itself. */
    static X509Certificate selfSigned(KeyPair keys) throws Exception {
        Instant now = Instant.now();
        return certificate("CN=localhost", keys, "CN=localhost", keys.getPrivate(), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(365)), false);
    }

    /** A certificate of {@code subject}'s key, signed by {@code issuerKey}, valid from {@code from} to {@code to}. */
    static X509Certificate certificate(String subject, KeyPair keys, String issuer, PrivateKey issuerKey,
                                       Instant from, Instant to, boolean ca) throws Exception {
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                new BigInteger(64, new SecureRandom()), Date.from(from), Date.from(to), new X500Name(subject),
                keys.getPublic());
        if (ca) {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        } else {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        }
        String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm)
                .build(issuerKey)));
    }

    /** PEM of each object as BouncyCastle writes it: a private key as PKCS#1 (RSA). */
    static String pem(Object... objects) throws Exception {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(text)) {
            for (Object o : objects) {
                w.writeObject(o);
            }
        }
        return text.toString();
    }

    /** PKCS#8 ({@code BEGIN PRIVATE KEY}). */
    static String pkcs8(PrivateKey key) throws Exception {
        return pem(new JcaPKCS8Generator(key, null));
    }

    /** Encrypted PKCS#8 ({@code BEGIN ENCRYPTED PRIVATE KEY}). */
    static String encryptedPkcs8(PrivateKey key) throws Exception {
        return pem(new JcaPKCS8Generator(key, new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                .setProvider(new BouncyCastleProvider()).setPassword("secret".toCharArray()).build()));
    }

    /** An encrypted key in OpenSSL's traditional format ({@code Proc-Type: 4,ENCRYPTED}). */
    static String encryptedTraditional(PrivateKey key) throws Exception {
        return pem(new JcaMiscPEMGenerator(key, new JcePEMEncryptorBuilder("AES-128-CBC")
                .setProvider(new BouncyCastleProvider()).build("secret".toCharArray())));
    }

    /**
     * SEC1 ({@code BEGIN EC PRIVATE KEY}) as openssl writes it, with the curve and the public key inside
     * (BouncyCastle's writer leaves both out of a JDK key, and such a key names no curve).
     */
    static String sec1(KeyPair keys) throws Exception {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
        org.bouncycastle.asn1.sec.ECPrivateKey inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(
                info.parsePrivateKey());
        org.bouncycastle.asn1.sec.ECPrivateKey full = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(),
                SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData(),
                info.getPrivateKeyAlgorithm().getParameters());
        return pem(new PemObject("EC PRIVATE KEY", full.getEncoded()));
    }
}
