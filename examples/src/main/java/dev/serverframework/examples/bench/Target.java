package dev.serverframework.examples.bench;

import dev.serverframework.examples.UsageException;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;

/** The server under test, from {@code --target http://host:port/path}. */
record Target(String url, InetSocketAddress address, String hostHeader, String pathAndQuery) {

    /**
     * Parses an {@code http://} URL; the host is resolved once, here.
     *
     * @throws UsageException when it is no {@code http://} URL
     * @throws IllegalStateException when the host does not resolve (a runtime error, as one that refuses)
     */
    static Target parse(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--target is not a URL: " + url);
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new UsageException("--target must be http://host[:port]/path, got " + url);
        }
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw new IllegalStateException("cannot resolve " + uri.getHost());
        }
        String host = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + port;
        return new Target(url, new InetSocketAddress(ip, port), host, path);
    }

    /** True when the server is on this machine's IPv4 loopback, so 127.0.0.x source addresses reach it. */
    boolean loopbackV4() {
        return address.getAddress().isLoopbackAddress() && address.getAddress().getAddress().length == 4;
    }

    /**
     * Opens and closes one TCP connection to the server.
     *
     * @throws CannotConnectException "cannot connect to HOST:PORT: reason" when that fails within {@code timeout}
     */
    void checkConnects(Duration timeout) throws CannotConnectException {
        try (Socket s = new Socket()) {
            s.connect(address, (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
        } catch (IOException e) {
            throw new CannotConnectException("cannot connect to " + address.getHostString() + ":" + address.getPort()
                    + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    /** The target refused or did not answer a connect: there is nothing to measure. */
    static final class CannotConnectException extends Exception {
        CannotConnectException(String message) {
            super(message);
        }
    }
}
