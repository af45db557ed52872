package dev.serverframework.examples.bench;

import java.util.Map;

/**
 * The measured outcome of one cell of the matrix (one mode at one concurrency). Latencies are in
 * microseconds; {@code connect*} are the TCP connect times (close mode, and reconnects in keep-alive mode).
 */
record CellResult(String mode, int connections, double seconds, long ok, Map<ErrorKind, Long> errors,
                  double p50, double p90, double p99, double p999, double max, double mean,
                  long connects, double connectP50, double connectP99, double connectMax,
                  double cpuCores, double cpuShare, String firstError) {

    /** Valid responses per second. */
    double rps() {
        return seconds <= 0 ? 0 : ok / seconds;
    }

    long errorTotal() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }
}
