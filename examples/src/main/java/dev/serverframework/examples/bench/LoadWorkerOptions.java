package dev.serverframework.examples.bench;

import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * What every load worker ({@link ConnectionsWorker}, {@link BroadcastWorker}) is told by its parent: the
 * server, its share of the connections, where they come from, the first request and the timeout. A picocli
 * mixin.
 */
final class LoadWorkerOptions {
    @Option(names = "--target", required = true)
    String target;

    @Option(names = "--path", defaultValue = "/")
    String path;

    @Option(names = "--count", required = true)
    int count;

    @Option(names = "--first-index", defaultValue = "0")
    int firstIndex;

    @Option(names = "--source-addresses", defaultValue = "1")
    int sourceAddresses;

    @Option(names = "--timeout-ms", defaultValue = "5000")
    int timeoutMs;

    /** The server, resolved. */
    InetSocketAddress server() {
        return OptionValues.hostPort(target);
    }

    /**
     * The address connection {@code i} of this worker binds to: 127.0.0.1..N round-robin over the whole
     * load, when the server is on IPv4 loopback and more than one source address was asked for; else null,
     * the kernel's choice.
     */
    InetSocketAddress source(InetSocketAddress server, int i) {
        if (sourceAddresses <= 1 || !server.getAddress().isLoopbackAddress()
                || server.getAddress().getAddress().length != 4) {
            return null;
        }
        return new InetSocketAddress("127.0.0." + (1 + (firstIndex + i) % sourceAddresses), 0);
    }

    /** The keep-alive GET each connection starts with. */
    byte[] request() {
        return ("GET " + path + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }
}
