package dev.serverframework.examples.bench;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The measured outcome of one cell of the matrix (one mode at one concurrency). Latencies are in
 * microseconds; {@code connect*} are the TCP connect times (close mode, and reconnects in keep-alive mode).
 *
 * @param mode        keepalive or close ("unknown" when a compared file lacks it)
 * @param errors      failed requests by kind, kinds with none left out
 * @param serverCpuMs the server process's CPU time (user + system) over the measured window in milliseconds;
 *                    null when unknown (no pid, or a compared file without it; a negative value as older files
 *                    wrote it reads as unknown too)
 * @param completed   responses, valid or not, that completed in the window, whenever their request was sent (the
 *                    server's CPU in the window was spent on them); null when a compared file does not say
 * @param perSecond   the measured window interval by interval (about a second each), so that stalls show
 */
record CellResult(String mode, int connections, double seconds, long ok, Map<ErrorKind, Long> errors,
                  double p50, double p90, double p99, double p999, double max, double mean,
                  long connects, double connectP50, double connectP99, double connectMax,
                  double cpuCores, double cpuShare, String firstError, Double serverCpuMs, Long completed,
                  List<Second> perSecond) {

    /**
     * Server CPU below this was measured from fewer than about 100 clock ticks (Linux counts it in 10 ms ticks):
     * its figure per request is shown as imprecise.
     */
    static final double PRECISE_CPU_MS = 1000;

    /**
     * One interval of the measured window, about a second; its bounds are the times its figures were really
     * taken, and its rates are divided by its real length.
     *
     * @param t       its start, seconds into the window
     * @param seconds its length in seconds
     * @param rps     valid responses per second in it
     * @param p50     median latency of its responses, microseconds; null when it had none
     * @param p99     99th percentile, microseconds; null when it had none
     * @param eps     errors per second in it
     */
    record Second(double t, double seconds, double rps, Double p50, Double p99, double eps) {
    }

    CellResult {
        mode = mode == null ? "unknown" : mode;
        perSecond = perSecond == null ? List.of() : List.copyOf(perSecond);
        // Files written before kept every kind, 0 when none: only the kinds that happened are kept.
        Map<ErrorKind, Long> e = new EnumMap<>(ErrorKind.class);
        if (errors != null) {
            errors.forEach((k, n) -> {
                if (k != null && n != null && n > 0) {
                    e.put(k, n);
                }
            });
        }
        errors = e;
        serverCpuMs = serverCpuMs == null || serverCpuMs < 0 || serverCpuMs.isNaN() ? null : serverCpuMs;
    }

    /** Valid responses per second. */
    double rps() {
        return seconds <= 0 ? 0 : ok / seconds;
    }

    long errorTotal() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Every response that completed in the window, valid or not ({@link ErrorKind#isResponse()}): what the server
     * did work for. Connect failures, resets and timeouts are not responses. {@link #completed} when known (it
     * counts the responses to requests sent before the window too); else, from an older file, the valid and
     * invalid responses to requests sent in the window.
     */
    long responses() {
        if (completed != null) {
            return completed;
        }
        long n = ok;
        for (Map.Entry<ErrorKind, Long> e : errors.entrySet()) {
            if (e.getKey().isResponse()) {
                n += e.getValue();
            }
        }
        return n;
    }

    /**
     * The server's CPU milliseconds per 1,000 responses (valid or not, see {@link #responses()}); null when its
     * CPU is unknown or nothing was answered.
     */
    Double serverCpuMsPer1000() {
        long n = responses();
        return serverCpuMs == null || n == 0 ? null : serverCpuMs * 1000 / n;
    }

    /** True when the server's CPU is known but from so few clock ticks that its figure is mostly resolution. */
    boolean serverCpuImprecise() {
        return serverCpuMs != null && serverCpuMs < PRECISE_CPU_MS;
    }

    /**
     * The server's CPU ms per 1,000 responses as the table and report show it: "-" when unknown; with
     * {@code decimals} decimals when precise; else "~" and two significant digits (from fewer than 100 ticks).
     */
    String serverCpuText(int decimals) {
        Double v = serverCpuMsPer1000();
        if (v == null) {
            return "-";
        }
        if (serverCpuImprecise()) {
            return "~" + new java.math.BigDecimal(v).round(new java.math.MathContext(2)).stripTrailingZeros()
                    .toPlainString();
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
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
