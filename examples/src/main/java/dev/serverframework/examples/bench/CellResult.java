package dev.serverframework.examples.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The measured outcome of one cell of the matrix (one mode at one concurrency). Latencies are in
 * microseconds; {@code connect*} are the TCP connect times (close mode, and reconnects in keep-alive mode).
 *
 * @param serverCpuMs the server process's CPU time (user + system) over the measured window in milliseconds,
 *                    -1 when its pid is unknown
 * @param perSecond   the measured window second by second, so that stalls show
 */
record CellResult(String mode, int connections, double seconds, long ok, Map<ErrorKind, Long> errors,
                  double p50, double p90, double p99, double p999, double max, double mean,
                  long connects, double connectP50, double connectP99, double connectMax,
                  double cpuCores, double cpuShare, String firstError, double serverCpuMs, List<Second> perSecond) {

    /**
     * One interval of the measured window (a second; the last may be shorter).
     *
     * @param t      its start, seconds into the window
     * @param rps    valid responses per second in it
     * @param p50    median latency of its responses, microseconds (0 when none)
     * @param p99    99th percentile, microseconds
     * @param errors errors counted in it
     */
    record Second(double t, double rps, double p50, double p99, long errors) {
    }

    CellResult {
        perSecond = perSecond == null ? List.of() : List.copyOf(perSecond);
        errors = errors == null ? Map.of() : errors;
    }

    /** Valid responses per second. */
    double rps() {
        return seconds <= 0 ? 0 : ok / seconds;
    }

    long errorTotal() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The server's CPU milliseconds per 1,000 valid responses, -1 when unknown or nothing was answered. */
    double serverCpuMsPer1000() {
        return serverCpuMs < 0 || ok == 0 ? -1 : serverCpuMs * 1000 / ok;
    }

    /** The errors in a few words: "0", or e.g. "3 reset, 1 length", kinds in {@link ErrorKind} order. */
    String errorSummary() {
        StringJoiner j = new StringJoiner(", ");
        for (ErrorKind k : ErrorKind.values()) {
            long n = errors.getOrDefault(k, 0L);
            if (n > 0) {
                j.add(String.format(Locale.ROOT, "%,d %s", n, k.label()));
            }
        }
        return j.length() == 0 ? "0" : j.toString();
    }
}
