package dev.serverframework.examples.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;

/** The server under test, from {@code --target http://host:port/path}. */
record Target(String url, InetSocketAddress address, String hostHeader, String pathAndQuery) {

    /** Parses an {@code http://} URL; the host is resolved once, here. */
    static Target parse(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--target is not a URL: " + url);
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("--target must be http://host[:port]/path, got " + url);
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
            throw new IllegalArgumentException("cannot resolve " + uri.getHost());
        }
        String host = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + port;
        return new Target(url, new InetSocketAddress(ip, port), host, path);
    }

    /** True when the server is on this machine's IPv4 loopback, so 127.0.0.x source addresses reach it. */
    boolean loopbackV4() {
        return address.getAddress().isLoopbackAddress() && address.getAddress().getAddress().length == 4;
    }
}
