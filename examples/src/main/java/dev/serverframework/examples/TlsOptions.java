package dev.serverframework.examples;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import javax.net.ssl.SSLException;
import java.nio.file.Path;

/**
 * {@code --tls-cert}/{@code --tls-key} and {@code --tls-self-signed}: TLS on every server of a command, mixed
 * into {@link ServerOptions}. The metrics server of {@code --metrics-port} stays plain HTTP (see the README's
 * TLS section). On the command's thread.
 */
final class TlsOptions {
    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Serve TLS with this PEM certificate chain, the server's certificate first (needs --tls-key; "
                    + "the same file if it holds the key too).")
    Path cert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "The unencrypted PEM private key of --tls-cert: PKCS#8 (BEGIN PRIVATE KEY), RSA (BEGIN RSA "
                    + "PRIVATE KEY) or EC (BEGIN EC PRIVATE KEY).")
    Path key;

    @Option(names = "--tls-self-signed",
            description = "Serve TLS with a certificate made at start for localhost and 127.0.0.1; the start-up "
                    + "line prints its SHA-256 fingerprint (for trying TLS, not for production).")
    boolean selfSigned;

    /** Made once, so that the chat's two servers share one certificate. */
    private SslContext context;
    private String description;

    /** Usage errors: one of the pair without the other, or a file and a generated certificate at once. */
    void check(CommandSpec spec) {
        if (selfSigned && (cert != null || key != null)) {
            throw OptionChecks.conflict(spec, "--tls-self-signed", cert != null ? "--tls-cert" : "--tls-key",
                    "the certificate is either generated or read from files");
        }
        if ((cert == null) != (key == null)) {
            throw new ParameterException(spec.commandLine(), cert == null
                    ? "--tls-key needs --tls-cert (the certificate of that key)"
                    : "--tls-cert needs --tls-key (the private key of that certificate)");
        }
    }

    /** True when the servers serve TLS. */
    boolean on() {
        return selfSigned || cert != null;
    }

    /**
     * The servers' TLS context, or null without TLS; read or generated on first use.
     *
     * @throws IllegalStateException naming the file when a file cannot be read, holds no usable PEM, or the
     *                               key is not the certificate's
     */
    SslContext context() {
        if (context == null && on()) {
            TlsCertificates.Pair pair = selfSigned ? TlsCertificates.selfSigned() : TlsCertificates.read(cert, key);
            try {
                context = SslContextBuilder.forServer(pair.key(), pair.chain()).build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot make a TLS context: " + e.getMessage(), e);
            }
            description = "TLS, " + (selfSigned ? "self-signed certificate" : "certificate") + " SHA-256 "
                    + TlsCertificates.fingerprint(pair.chain()[0]);
        }
        return context;
    }

    /** For the start-up line: {@code TLS, certificate SHA-256 AB:CD:...}, or null without TLS. */
    String describe() {
        context();
        return description;
    }

    /** The URL scheme of the servers' HTTP: {@code https} with TLS. */
    String httpScheme() {
        return on() ? "https" : "http";
    }
}
