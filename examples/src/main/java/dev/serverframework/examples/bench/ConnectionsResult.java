package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of one {@code bench connections} run, and its renderings: the terminal {@link #table()},
 * {@code results.json} ({@link #toJson()}) and {@code report.html} ({@link ConnectionsHtml}).
 *
 * @param target           the server, HOST:PORT
 * @param count            connections asked for
 * @param processes        load processes that held them
 * @param sourceAddresses  127.0.0.x source addresses they came from
 * @param holdSeconds      how long they were held idle before the sample
 * @param opened           connections that opened and answered their first request
 * @param openFailed       connections that did not
 * @param firstError       the first open failure, or null
 * @param closedByServer   connections the server closed while they were held
 * @param sampleErrors     failed requests of the latency sample and the final probe
 * @param probedOk         connections that answered the final probe
 * @param latenciesMicros  the latency sample, sorted, in microseconds
 * @param before           the server before the connections opened
 * @param after            the server while all of them were held
 * @param metricsAvailable whether the server had Prometheus {@code /metrics}
 * @param notes            what the user should know to read the figures
 * @param environment      the machine, the JVM and the commands of the run
 */
public record ConnectionsResult(String target, int count, int processes, int sourceAddresses, double holdSeconds,
                                int opened, int openFailed, String firstError, int closedByServer, int sampleErrors,
                                int probedOk, long[] latenciesMicros, ServerSnapshot before, ServerSnapshot after,
                                boolean metricsAvailable, List<String> notes, Environment environment) {

    /** The latency at percentile {@code p} (0-100] of the sample, in milliseconds; NaN without a sample. */
    double percentile(double p) {
        if (latenciesMicros.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * latenciesMicros.length) - 1;
        return latenciesMicros[Math.max(0, Math.min(latenciesMicros.length - 1, i))] / 1000.0;
    }

    /** Server heap growth per held connection, bytes; NaN if unknown. */
    public double heapPerConnection() {
        return (after.heapBytes() - before.heapBytes()) / Math.max(1, opened);
    }

    /** Server resident memory growth per held connection, bytes; NaN if unknown. */
    public double rssPerConnection() {
        return (after.rssBytes() - before.rssBytes()) / Math.max(1, opened);
    }

    /** Netty allocator growth (pooled buffers) per held connection, bytes; NaN if unknown. */
    public double nettyPerConnection() {
        return (after.nettyBytes() - before.nettyBytes()) / Math.max(1, opened);
    }

    /** True when a GC ran between the two heap readings: the heap figure then mixes in collected garbage. */
    public boolean gcBetween() {
        return !Double.isNaN(before.gcCount()) && after.gcCount() != before.gcCount();
    }

    /** The terminal table: the figures, then the notes. */
    public String table() {
        StringBuilder b = new StringBuilder(System.lineSeparator()).append(title()).append(System.lineSeparator());
        for (String[] f : figures()) {
            row(b, f[0], f[1]);
        }
        for (String note : notes) {
            b.append("note: ").append(note).append(System.lineSeparator());
        }
        return b.toString();
    }

    /** What ran, in one line. */
    String title() {
        return String.format(Locale.ROOT, "bench connections: %s, %,d connections from %d load process(es) and "
                + "%d source address(es), held %.1f s", target, count, processes, sourceAddresses, holdSeconds);
    }

    /** The figures as (name, value) pairs, for the table and the HTML report. */
    List<String[]> figures() {
        List<String[]> f = new ArrayList<>();
        f.add(pair("connections opened", String.format(Locale.ROOT, "%,d of %,d", opened, count)));
        f.add(pair("open failures", openFailed + (firstError == null ? "" : " (first: " + firstError + ")")));
        f.add(pair("closed by server while held", Integer.toString(closedByServer)));
        f.add(pair("answered the final probe", String.format(Locale.ROOT, "%,d", probedOk)));
        f.add(pair("latency sample", String.format(Locale.ROOT, "%,d requests, %d errors", latenciesMicros.length,
                sampleErrors)));
        f.add(pair("latency p50 / p99 / max", String.format(Locale.ROOT, "%.3f / %.3f / %.3f ms", percentile(50),
                percentile(99), percentile(100))));
        f.add(pair("server heap before / after", mib(before.heapBytes()) + " / " + mib(after.heapBytes())));
        f.add(pair("heap per connection", bytes(heapPerConnection()) + (gcBetween() ? " (a GC ran between)" : "")));
        f.add(pair("netty buffers per connection", bytes(nettyPerConnection())));
        f.add(pair("server RSS before / after", mib(before.rssBytes()) + " / " + mib(after.rssBytes())));
        f.add(pair("RSS per connection", bytes(rssPerConnection())));
        if (!Double.isNaN(after.openFiles())) {
            f.add(pair("server open files after", String.format(Locale.ROOT, "%,.0f of %,.0f", after.openFiles(),
                    after.maxFiles())));
        }
        for (int n : new int[] {100_000, 1_000_000}) {
            f.add(pair(String.format(Locale.ROOT, "%,d connections would need", n), String.format(Locale.ROOT,
                    "heap %s, RSS %s, %,d open files", mib(heapPerConnection() * n), mib(rssPerConnection() * n),
                    n + ConnectionsPlan.JVM_HEADROOM)));
        }
        return f;
    }

    private static String[] pair(String name, String value) {
        return new String[] {name, value};
    }

    /** One row of a terminal table: the label left-aligned, then the value ({@code bench broadcast} too). */
    static void row(StringBuilder b, String k, String v) {
        b.append(String.format(Locale.ROOT, "  %-32s %s%n", k, v));
    }

    /** Bytes in MiB, or "unknown" for NaN. */
    static String mib(double v) {
        return Double.isNaN(v) ? "unknown" : String.format(Locale.ROOT, "%,.1f MiB", v / (1024 * 1024));
    }

    /** Bytes, or "unknown" for NaN. */
    static String bytes(double v) {
        return Double.isNaN(v) ? "unknown" : String.format(Locale.ROOT, "%,.0f B", v);
    }

    /** {@code results.json}: the settings, the counts, the latency percentiles and the memory figures. */
    public String toJson() {
        ObjectNode n = BenchJson.object();
        n.put("target", target);
        n.put("count", count);
        n.put("processes", processes);
        n.put("sourceAddresses", sourceAddresses);
        n.put("holdSeconds", holdSeconds);
        n.put("opened", opened);
        n.put("openFailed", openFailed);
        n.put("firstError", firstError);
        n.put("closedByServer", closedByServer);
        n.put("sampleErrors", sampleErrors);
        n.put("probedOk", probedOk);
        n.put("latencySamples", latenciesMicros.length);
        BenchJson.number(n, "p50Ms", percentile(50));
        BenchJson.number(n, "p99Ms", percentile(99));
        BenchJson.number(n, "maxMs", percentile(100));
        n.put("metricsAvailable", metricsAvailable);
        BenchJson.number(n, "heapBeforeBytes", before.heapBytes());
        BenchJson.number(n, "heapAfterBytes", after.heapBytes());
        BenchJson.number(n, "heapPerConnectionBytes", heapPerConnection());
        n.put("gcBetweenReadings", gcBetween());
        BenchJson.number(n, "nettyPerConnectionBytes", nettyPerConnection());
        BenchJson.number(n, "rssBeforeBytes", before.rssBytes());
        BenchJson.number(n, "rssAfterBytes", after.rssBytes());
        BenchJson.number(n, "rssPerConnectionBytes", rssPerConnection());
        BenchJson.number(n, "serverOpenFilesAfter", after.openFiles());
        BenchJson.number(n, "serverConnectionsOpenAfter", after.connectionsOpen());
        n.set("environment", BenchJson.MAPPER.valueToTree(environment));
        notes.forEach(n.putArray("notes")::add);
        return BenchJson.write(n);
    }
}
