package dev.serverframework.examples.bench;

/**
 * What a server said about itself at one moment, through its /metrics, {@code jstat} or /proc; NaN where it
 * did not say.
 *
 * @param heapBytes       JVM heap in use
 * @param nonHeapBytes    JVM non-heap memory in use
 * @param nettyBytes      memory Netty's allocators hold
 * @param gcCount         garbage collections so far
 * @param openFiles       open file descriptors
 * @param maxFiles        the open-file limit
 * @param connectionsOpen the server's own count of open connections
 * @param rssBytes        resident memory of the process
 */
public record ServerSnapshot(double heapBytes, double nonHeapBytes, double nettyBytes, double gcCount,
                             double openFiles, double maxFiles, double connectionsOpen, double rssBytes) {

    /** Whether the server answered with Prometheus text of its JVM (not only /proc or jstat figures). */
    boolean fromMetrics() {
        return !Double.isNaN(openFiles) || !Double.isNaN(nonHeapBytes);
    }
}
