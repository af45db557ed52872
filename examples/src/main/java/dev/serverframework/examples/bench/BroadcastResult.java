package dev.serverframework.examples.bench;

import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.serverframework.examples.bench.ConnectionsResult.bytes;
import static dev.serverframework.examples.bench.ConnectionsResult.mib;
import static dev.serverframework.examples.bench.ConnectionsResult.num;
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
        static ServerRun of(Map<?, ?> m) {
            return new ServerRun(l(m, "messages"), l(m, "sent"), l(m, "skipped"), l(m, "targets"),
                    l(m, "sendsTaken"), l(m, "sendsRefused"), l(m, "maxInFlight"), l(m, "firstSentMicros"),
                    l(m, "lastSentMicros"), l(m, "lagP50Micros"), l(m, "lagP99Micros"), l(m, "lagMaxMicros"),
                    l(m, "fanOutP50Micros"), l(m, "fanOutP99Micros"), l(m, "fanOutMaxMicros"));
        }

        private static long l(Map<?, ?> m, String key) {
            if (!(m.get(key) instanceof Double d)) {
                throw new IllegalStateException("the server's broadcast report has no " + key + ": " + m);
            }
            return d.longValue();
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
        StringBuilder b = new StringBuilder("{\n");
        field(b, "tool", Json.quote("server-framework bench broadcast"));
        field(b, "target", Json.quote(target));
        field(b, "count", Integer.toString(count));
        field(b, "processes", Integer.toString(processes));
        field(b, "sourceAddresses", Integer.toString(sourceAddresses));
        field(b, "loadThreads", Integer.toString(loadThreads));
        field(b, "rate", Json.number(rate));
        field(b, "seconds", Json.number(seconds));
        field(b, "size", Integer.toString(size));
        field(b, "opened", Integer.toString(opened));
        field(b, "openError", Json.quote(openError));
        field(b, "upgraded", Integer.toString(upgraded));
        field(b, "upgradeError", Json.quote(upgradeError));
        field(b, "messages", Long.toString(server.messages()));
        field(b, "sent", Long.toString(server.sent()));
        field(b, "skipped", Long.toString(server.skipped()));
        field(b, "sendsRefused", Long.toString(server.sendsRefused()));
        field(b, "expectedDeliveries", Long.toString(expectedDeliveries()));
        field(b, "deliveries", Long.toString(load.deliveries()));
        field(b, "allDelivered", Boolean.toString(allDelivered()));
        field(b, "socketsComplete", Integer.toString(load.complete()));
        field(b, "gaps", Long.toString(load.gaps()));
        field(b, "spanSeconds", num(spanSeconds()));
        field(b, "deliveriesPerSecond", num(deliveriesPerSecond()));
        field(b, "offeredPerSecond", num(offeredPerSecond()));
        field(b, "latencyP50Ms", num(latencyMs(50)));
        field(b, "latencyP99Ms", num(latencyMs(99)));
        field(b, "latencyP999Ms", num(latencyMs(99.9)));
        field(b, "latencyMaxMs", num(latencyMs(100)));
        field(b, "negativeLatencies", Long.toString(load.negative()));
        field(b, "fanOutP50Ms", num(server.fanOutP50() / 1000.0));
        field(b, "fanOutP99Ms", num(server.fanOutP99() / 1000.0));
        field(b, "fanOutMaxMs", num(server.fanOutMax() / 1000.0));
        field(b, "lagP99Ms", num(server.lagP99() / 1000.0));
        field(b, "lagMaxMs", num(server.lagMax() / 1000.0));
        field(b, "scheduleOverrunMs", num(scheduleOverrunMs()));
        field(b, "deliveryTailMs", num(deliveryTailMs()));
        field(b, "closedByServer", Long.toString(load.closed()));
        field(b, "closeFrames", Long.toString(load.closeFrames()));
        field(b, "pingsAnswered", Long.toString(load.pings()));
        field(b, "errors", Long.toString(load.errors()));
        field(b, "firstError", Json.quote(load.firstError()));
        field(b, "serverCpuCores", num(serverCpuCores));
        field(b, "loadCpuCores", num(loadCpuCores));
        field(b, "forcedGc", Boolean.toString(forcedGc));
        field(b, "heapBeforeBytes", num(before.heapBytes()));
        field(b, "heapHttpBytes", num(http.heapBytes()));
        field(b, "heapWebSocketBytes", num(ws.heapBytes()));
        field(b, "heapPerHttpBytes", num(heapPerHttp()));
        field(b, "heapPerWebSocketBytes", num(heapPerWebSocket()));
        field(b, "heapRatio", num(heapRatio()));
        field(b, "rssPerHttpBytes", num(rssPerHttp()));
        field(b, "rssPerWebSocketBytes", num(rssPerWebSocket()));
        field(b, "nettyPerHttpBytes", num(nettyPer(http, opened)));
        field(b, "nettyPerWebSocketBytes", num(nettyPer(ws, upgraded)));
        field(b, "serverConnectionsOpen", num(ws.connectionsOpen()));
        b.append("  \"notes\": [");
        for (int i = 0; i < notes.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(Json.quote(notes.get(i)));
        }
        return b.append("]\n}\n").toString();
    }

    private static void field(StringBuilder b, String name, String json) {
        b.append("  ").append(Json.quote(name)).append(": ").append(json).append(",\n");
    }
}
