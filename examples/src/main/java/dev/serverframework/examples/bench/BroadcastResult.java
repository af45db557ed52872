package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.Locale;

import static dev.serverframework.examples.bench.ConnectionsResult.bytes;
import static dev.serverframework.examples.bench.ConnectionsResult.mib;
import static dev.serverframework.examples.bench.ConnectionsResult.row;

/**
 * The outcome of one {@code bench broadcast} run, and its two renderings: the terminal {@link #table()} and
 * {@code results.json} ({@link #toJson()}).
 *
 * @param target          the server, HOST:PORT
 * @param count           connections asked for
 * @param processes       load processes that held them
 * @param sourceAddresses 127.0.0.x source addresses they came from
 * @param loadThreads     event-loop threads of each load process
 * @param rate            messages per second asked of the server
 * @param seconds         the measured broadcast's planned length
 * @param size            payload bytes of each message
 * @param opened          connections that opened and answered their GET (idle HTTP connections)
 * @param openError       the first failure to open one, or null
 * @param upgraded        connections that then became WebSockets
 * @param upgradeError    the first failure of a handshake, or null
 * @param server          what the server reported of the measured broadcast
 * @param load            what the load processes received of it
 * @param serverCpuCores  the server's CPU time over the broadcast, in cores; NaN when unknown
 * @param loadCpuCores    the load processes' CPU time over the broadcast, in cores
 * @param before          the server before any connection opened
 * @param http            the server with all connections open as idle HTTP connections
 * @param ws              the server with all of them idle WebSockets
 * @param forcedGc        whether each reading came right after a full GC in the server
 * @param notes           what the user should know to read the figures
 */
public record BroadcastResult(String target, int count, int processes, int sourceAddresses, int loadThreads,
                              double rate, double seconds, int size, int opened, String openError, int upgraded,
                              String upgradeError, ServerRun server, Drained load, double serverCpuCores,
                              double loadCpuCores, ServerSnapshot before, ServerSnapshot http, ServerSnapshot ws,
                              boolean forcedGc, List<String> notes) {

    /** The goal of the issue, on a 2-core machine with 10,000 connections: deliveries per second. */
    static final double GOAL_DELIVERIES = 500_000;
    /** ... with a p99 delivery latency below this, in ms. */
    static final double GOAL_P99_MS = 50;
    /** ... and an idle WebSocket at most this many times an idle HTTP connection's memory. */
    static final double GOAL_MEMORY_RATIO = 1.2;

    /**
     * What the server's control route answered of a broadcast run (see {@link BroadcastRun}); times in
     * microseconds.
     *
     * @param messages     messages asked for
     * @param sent         messages broadcast
     * @param skipped      messages skipped, too many broadcasts being under way
     * @param targets      sockets the broadcasts were meant for, summed over them
     * @param sendsTaken   sends the sockets took
     * @param sendsRefused sends refused: socket closing, or closed as too slow a reader
     * @param maxInFlight  broadcasts that may be under way before one is skipped
     * @param firstSent    the first message's send time (wall clock)
     * @param lastSent     the last message's send time
     * @param lagP50       how late a message went out after its due time: median
     * @param lagP99       ... 99th percentile
     * @param lagMax       ... most
     * @param fanOutP50    from a message's send time until its {@code each} had run on every socket: median
     * @param fanOutP99    ... 99th percentile
     * @param fanOutMax    ... most
     */
    public record ServerRun(long messages, long sent, long skipped, long targets, long sendsTaken, long sendsRefused,
                            long maxInFlight, long firstSent, long lastSent, long lagP50, long lagP99, long lagMax,
                            long fanOutP50, long fanOutP99, long fanOutMax) {

        /** From the control route's JSON answer. */
        static ServerRun of(JsonNode m) {
            return new ServerRun(l(m, "messages"), l(m, "sent"), l(m, "skipped"), l(m, "targets"),
                    l(m, "sendsTaken"), l(m, "sendsRefused"), l(m, "maxInFlight"), l(m, "firstSentMicros"),
                    l(m, "lastSentMicros"), l(m, "lagP50Micros"), l(m, "lagP99Micros"), l(m, "lagMaxMicros"),
                    l(m, "fanOutP50Micros"), l(m, "fanOutP99Micros"), l(m, "fanOutMaxMicros"));
        }

        private static long l(JsonNode m, String key) {
            if (!m.path(key).isNumber()) {
                throw new IllegalStateException("the server's broadcast report has no " + key + ": " + m);
            }
            return m.get(key).asLong();
        }
    }

    /** Deliveries that every socket receiving every message asked for would make. */
    public long expectedDeliveries() {
        return (long) upgraded * server.messages();
    }

    /** True when every socket received every message asked for, none closed, none skipped. */
    public boolean allDelivered() {
        return load.deliveries() == expectedDeliveries() && load.complete() == upgraded && load.gaps() == 0
                && load.closed() == 0;
    }

    /** From the first message's send time to the last message's arrival, in seconds; NaN without one. */
    public double spanSeconds() {
        return load.lastMicros() < 0 || server.firstSent() <= 0 ? Double.NaN
                : (load.lastMicros() - server.firstSent()) / 1e6;
    }

    /** Deliveries per second over {@link #spanSeconds()}: the rate the server really delivered at. */
    public double deliveriesPerSecond() {
        return load.deliveries() / spanSeconds();
    }

    /** Deliveries per second asked for: sockets × rate. */
    public double offeredPerSecond() {
        return upgraded * rate;
    }

    /**
     * How much later than planned the last message went out, in ms: 0 when the server kept the schedule
     * (its ticks are 1/rate apart, at least 1 ms).
     */
    public double scheduleOverrunMs() {
        if (server.sent() == 0) {
            return Double.NaN;
        }
        double planned = (server.messages() - 1) / rate * 1e6;
        return Math.max(0, server.lastSent() - server.firstSent() - planned) / 1000;
    }

    /** From the last message's send time to the last arrival of any message, in ms; NaN without one. */
    public double deliveryTailMs() {
        return load.lastMicros() < 0 || server.lastSent() <= 0 ? Double.NaN
                : (load.lastMicros() - server.lastSent()) / 1000.0;
    }

    /** Delivery latency at percentile {@code p}, in ms; NaN without deliveries. */
    public double latencyMs(double p) {
        Histogram h = load.latency();
        return h.getTotalCount() == 0 ? Double.NaN
                : (p >= 100 ? h.getMaxValue() : h.getValueAtPercentile(p)) / 1000.0;
    }

    /** Server heap growth per idle HTTP connection, bytes; NaN if unknown. */
    public double heapPerHttp() {
        return (http.heapBytes() - before.heapBytes()) / Math.max(1, opened);
    }

    /** Server heap growth per idle WebSocket, bytes; NaN if unknown. */
    public double heapPerWebSocket() {
        return (ws.heapBytes() - before.heapBytes()) / Math.max(1, upgraded);
    }

    /** Server RSS growth per idle HTTP connection, bytes; NaN if unknown. */
    public double rssPerHttp() {
        return (http.rssBytes() - before.rssBytes()) / Math.max(1, opened);
    }

    /** Server RSS growth per idle WebSocket, bytes; NaN if unknown. */
    public double rssPerWebSocket() {
        return (ws.rssBytes() - before.rssBytes()) / Math.max(1, upgraded);
    }

    /** Netty's pooled buffers per idle HTTP connection and per idle WebSocket, bytes; NaN if unknown. */
    private double nettyPer(ServerSnapshot s, int n) {
        return (s.nettyBytes() - before.nettyBytes()) / Math.max(1, n);
    }

    /** Heap of an idle WebSocket over an idle HTTP connection's; NaN if unknown. */
    public double heapRatio() {
        return heapPerWebSocket() / heapPerHttp();
    }

    /** The terminal table. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%nbench broadcast: %s, %,d WebSocket connections from %d load process(es) "
                        + "(%d event-loop thread(s) each) and %d source address(es); %.0f messages/s of %d bytes "
                        + "for %.1f s%n", target, count, processes, loadThreads, sourceAddresses, rate, size,
                seconds));
        row(b, "idle HTTP connections opened", String.format(Locale.ROOT, "%,d of %,d", opened, count)
                + (openError == null ? "" : " (first failure: " + openError + ")"));
        row(b, "upgraded to WebSocket", String.format(Locale.ROOT, "%,d", upgraded)
                + (upgradeError == null ? "" : " (first failure: " + upgradeError + ")"));
        row(b, "messages sent by the server", String.format(Locale.ROOT, "%,d of %,d (%,d skipped: too many "
                + "broadcasts under way)", server.sent(), server.messages(), server.skipped()));
        row(b, "sends refused by sockets", String.format(Locale.ROOT, "%,d", server.sendsRefused()));
        row(b, "deliveries", String.format(Locale.ROOT, "%,d of %,d (%s)", load.deliveries(),
                expectedDeliveries(), allDelivered() ? "every socket got every message"
                        : String.format(Locale.ROOT, "%,d of %,d sockets got every message sent, %,d gaps in "
                                + "their sequences", load.complete(), upgraded, load.gaps())));
        row(b, "deliveries per second", String.format(Locale.ROOT, "%,.0f (%,.0f offered; over %.2f s from the "
                + "first send to the last arrival)", deliveriesPerSecond(), offeredPerSecond(), spanSeconds()));
        row(b, "latency p50 / p99 / p99.9 / max", String.format(Locale.ROOT, "%.3f / %.3f / %.3f / %.3f ms",
                latencyMs(50), latencyMs(99), latencyMs(99.9), latencyMs(100)));
        row(b, "server fan-out p50 / p99 / max", String.format(Locale.ROOT, "%.3f / %.3f / %.3f ms (send time "
                + "until each() ran on every socket)", server.fanOutP50() / 1000.0, server.fanOutP99() / 1000.0,
                server.fanOutMax() / 1000.0));
        row(b, "server behind schedule", String.format(Locale.ROOT, "lag p99 %.3f ms, max %.3f ms; last "
                + "message %.1f ms late", server.lagP99() / 1000.0, server.lagMax() / 1000.0, scheduleOverrunMs()));
        row(b, "last arrival after last send", String.format(Locale.ROOT, "%.1f ms", deliveryTailMs()));
        row(b, "closed by server / pings answered", String.format(Locale.ROOT, "%,d / %,d", load.closed(),
                load.pings()));
        if (load.errors() > 0 || load.negative() > 0) {
            row(b, "errors / negative latencies", load.errors() + " / " + load.negative()
                    + (load.firstError() == null ? "" : " (first: " + load.firstError() + ")"));
        }
        row(b, "CPU: server / load processes", String.format(Locale.ROOT, "%s / %.2f cores",
                Double.isNaN(serverCpuCores) ? "unknown" : String.format(Locale.ROOT, "%.2f", serverCpuCores),
                loadCpuCores));
        row(b, "server heap: none / HTTP / WS", mib(before.heapBytes()) + " / " + mib(http.heapBytes()) + " / "
                + mib(ws.heapBytes()) + (forcedGc ? " (after a full GC)" : ""));
        row(b, "heap per idle HTTP / WebSocket", bytes(heapPerHttp()) + " / " + bytes(heapPerWebSocket())
                + String.format(Locale.ROOT, " (%.2f×)", heapRatio()));
        row(b, "RSS per idle HTTP / WebSocket", bytes(rssPerHttp()) + " / " + bytes(rssPerWebSocket()));
        row(b, "netty buffers per HTTP / WebSocket", bytes(nettyPer(http, opened)) + " / "
                + bytes(nettyPer(ws, upgraded)));
        b.append(String.format(Locale.ROOT, "goals (2 cores, 10,000 connections):%n"));
        goal(b, String.format(Locale.ROOT, ">= %,.0f deliveries/s", GOAL_DELIVERIES),
                deliveriesPerSecond() >= GOAL_DELIVERIES);
        goal(b, String.format(Locale.ROOT, "p99 < %.0f ms", GOAL_P99_MS), latencyMs(99) < GOAL_P99_MS);
        goal(b, String.format(Locale.ROOT, "WebSocket heap <= %.1f× HTTP's", GOAL_MEMORY_RATIO),
                heapRatio() <= GOAL_MEMORY_RATIO);
        for (String note : notes) {
            b.append("note: ").append(note).append(System.lineSeparator());
        }
        return b.toString();
    }

    private static void goal(StringBuilder b, String what, boolean met) {
        row(b, "  " + what, met ? "met" : "NOT met");
    }

    /** {@code results.json}: the settings, the counts, the rates, the latencies and the memory figures. */
    public String toJson() {
        ObjectNode n = BenchJson.object();
        n.put("tool", "server-framework bench broadcast");
        n.put("target", target);
        n.put("count", count);
        n.put("processes", processes);
        n.put("sourceAddresses", sourceAddresses);
        n.put("loadThreads", loadThreads);
        n.put("rate", rate);
        n.put("seconds", seconds);
        n.put("size", size);
        n.put("opened", opened);
        n.put("openError", openError);
        n.put("upgraded", upgraded);
        n.put("upgradeError", upgradeError);
        n.put("messages", server.messages());
        n.put("sent", server.sent());
        n.put("skipped", server.skipped());
        n.put("sendsRefused", server.sendsRefused());
        n.put("expectedDeliveries", expectedDeliveries());
        n.put("deliveries", load.deliveries());
        n.put("allDelivered", allDelivered());
        n.put("socketsComplete", load.complete());
        n.put("gaps", load.gaps());
        BenchJson.number(n, "spanSeconds", spanSeconds());
        BenchJson.number(n, "deliveriesPerSecond", deliveriesPerSecond());
        BenchJson.number(n, "offeredPerSecond", offeredPerSecond());
        BenchJson.number(n, "latencyP50Ms", latencyMs(50));
        BenchJson.number(n, "latencyP99Ms", latencyMs(99));
        BenchJson.number(n, "latencyP999Ms", latencyMs(99.9));
        BenchJson.number(n, "latencyMaxMs", latencyMs(100));
        n.put("negativeLatencies", load.negative());
        BenchJson.number(n, "fanOutP50Ms", server.fanOutP50() / 1000.0);
        BenchJson.number(n, "fanOutP99Ms", server.fanOutP99() / 1000.0);
        BenchJson.number(n, "fanOutMaxMs", server.fanOutMax() / 1000.0);
        BenchJson.number(n, "lagP99Ms", server.lagP99() / 1000.0);
        BenchJson.number(n, "lagMaxMs", server.lagMax() / 1000.0);
        BenchJson.number(n, "scheduleOverrunMs", scheduleOverrunMs());
        BenchJson.number(n, "deliveryTailMs", deliveryTailMs());
        n.put("closedByServer", load.closed());
        n.put("closeFrames", load.closeFrames());
        n.put("pingsAnswered", load.pings());
        n.put("errors", load.errors());
        n.put("firstError", load.firstError());
        BenchJson.number(n, "serverCpuCores", serverCpuCores);
        BenchJson.number(n, "loadCpuCores", loadCpuCores);
        n.put("forcedGc", forcedGc);
        BenchJson.number(n, "heapBeforeBytes", before.heapBytes());
        BenchJson.number(n, "heapHttpBytes", http.heapBytes());
        BenchJson.number(n, "heapWebSocketBytes", ws.heapBytes());
        BenchJson.number(n, "heapPerHttpBytes", heapPerHttp());
        BenchJson.number(n, "heapPerWebSocketBytes", heapPerWebSocket());
        BenchJson.number(n, "heapRatio", heapRatio());
        BenchJson.number(n, "rssPerHttpBytes", rssPerHttp());
        BenchJson.number(n, "rssPerWebSocketBytes", rssPerWebSocket());
        BenchJson.number(n, "nettyPerHttpBytes", nettyPer(http, opened));
        BenchJson.number(n, "nettyPerWebSocketBytes", nettyPer(ws, upgraded));
        BenchJson.number(n, "serverConnectionsOpen", ws.connectionsOpen());
        notes.forEach(n.putArray("notes")::add);
        return BenchJson.write(n);
    }
}
