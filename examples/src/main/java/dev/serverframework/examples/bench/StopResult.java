package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/**
 * What {@link StopProbe} saw: how each connection ended, the replies counted before and after the stop signal,
 * how long connections and the stopped process took to end.
 *
 * @param target            the server, {@code host:port}
 * @param protocol          {@code http} or {@code resp}
 * @param connections       connections asked for
 * @param connected         connections opened before the stop; less than {@code connections} means the probe
 *                          gave up before stopping anything (see {@code connectError})
 * @param connectError      the first connect failure, or null
 * @param stopLabel         what the stop was (e.g. "SIGTERM to pid 1234")
 * @param stopAfterMillis   how long the loops ran before the stop
 * @param deadlineMillis    how long after the stop the probe waited for connections to end
 * @param stopTriggered     true when the stop action was run
 * @param stopError         what went wrong running the stop action (e.g. the command's exit status), or null
 * @param ends              one entry per opened connection, by index
 * @param processWatched    true when a process was watched for its exit
 * @param processExitMillis milliseconds from the signal until the watched process was gone; NaN when it was
 *                          still alive at the deadline, or when none was watched
 */
public record StopResult(String target, String protocol, int connections, int connected, String connectError,
                         String stopLabel, double stopAfterMillis, double deadlineMillis, boolean stopTriggered,
                         String stopError, List<ConnectionEnd> ends, boolean processWatched,
                         double processExitMillis) {

    /**
     * How one connection ended.
     *
     * @param index                   the connection's number, from 0
     * @param outcome                 its ending
     * @param requestOutstanding      true when a request had been sent (or was being sent) and its reply had not
     *                                completely arrived when the connection ended
     * @param endedBeforeStop         true when it ended before the stop signal
     * @param endMillis               milliseconds from the stop signal to its end; NaN when it ended before the
     *                                signal or was still open at the deadline
     * @param responsesBeforeStop     complete replies before the signal
     * @param responsesAfterStop      complete replies after the signal
     * @param closeResponsesAfterStop of those, replies that said {@code Connection: close}
     * @param unexpectedReplies       complete RESP replies that were not {@code +PONG} (answers nonetheless)
     * @param detail                  what exactly happened, for a person (null when nothing to add)
     */
    public record ConnectionEnd(int index, StopOutcome outcome, boolean requestOutstanding, boolean endedBeforeStop,
                                double endMillis, long responsesBeforeStop, long responsesAfterStop,
                                long closeResponsesAfterStop, long unexpectedReplies, String detail) {
    }

    /** Takes an immutable copy of {@code ends}. */
    public StopResult {
        ends = List.copyOf(ends);
    }

    /** True when every connection was opened, so the stop was measured. */
    public boolean allConnected() {
        return connected == connections && connectError == null;
    }

    /** Connections that ended with {@code outcome}. */
    public long count(StopOutcome outcome) {
        return ends.stream().filter(e -> e.outcome() == outcome).count();
    }

    /** Connections that ended with {@code outcome} while a request was outstanding. */
    public long countOutstanding(StopOutcome outcome) {
        return ends.stream().filter(e -> e.outcome() == outcome && e.requestOutstanding()).count();
    }

    /** Connections that ended with {@code outcome} before the stop signal (so not because of it). */
    public long countBeforeStop(StopOutcome outcome) {
        return ends.stream().filter(e -> e.outcome() == outcome && e.endedBeforeStop()).count();
    }

    /** Connections that ended before the stop signal (whatever their outcome). */
    public long endedBeforeStop() {
        return ends.stream().filter(ConnectionEnd::endedBeforeStop).count();
    }

    /** Complete replies before the stop signal, all connections. */
    public long responsesBeforeStop() {
        return ends.stream().mapToLong(ConnectionEnd::responsesBeforeStop).sum();
    }

    /** Complete replies after the stop signal, all connections. */
    public long responsesAfterStop() {
        return ends.stream().mapToLong(ConnectionEnd::responsesAfterStop).sum();
    }

    /** Replies after the stop signal that said {@code Connection: close}. */
    public long closeResponsesAfterStop() {
        return ends.stream().mapToLong(ConnectionEnd::closeResponsesAfterStop).sum();
    }

    /** RESP replies other than {@code +PONG}. */
    public long unexpectedReplies() {
        return ends.stream().mapToLong(ConnectionEnd::unexpectedReplies).sum();
    }

    /** Connections that had no complete reply before the stop (they measured nothing but their end). */
    public long connectionsWithoutReplyBeforeStop() {
        return ends.stream().filter(e -> e.responsesBeforeStop() == 0).count();
    }

    /**
     * The {@code p}-th percentile (nearest rank, {@code 0 < p <= 100}) of the time from the stop signal to each
     * connection's end, over the connections that ended after the signal; NaN when none did.
     */
    public double endMillisPercentile(double p) {
        double[] t = ends.stream().mapToDouble(ConnectionEnd::endMillis).filter(d -> !Double.isNaN(d)).sorted()
                .toArray();
        if (t.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * t.length);
        return t[Math.max(0, Math.min(t.length - 1, rank - 1))];
    }

    /** The longest time from the stop signal to a connection's end; NaN when none ended after the signal. */
    public double endMillisMax() {
        return endMillisPercentile(100);
    }

    /** The table a person reads at a glance. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "stop probe: %d %s connection(s) to %s, stop (%s) after %.1f s%n",
                connections, protocol, target, stopLabel, stopAfterMillis / 1000));
        if (!allConnected()) {
            b.append(String.format(Locale.ROOT, "  only %d of %d connections opened; nothing was stopped. "
                    + "First failure: %s%n", connected, connections, connectError));
            return b.toString();
        }
        if (!stopTriggered) {
            b.append("  the stop was not triggered\n");
        }
        if (stopError != null) {
            b.append("  the stop action failed: ").append(stopError).append('\n');
        }
        int n = ends.size();
        boolean early = endedBeforeStop() > 0;
        b.append(String.format(Locale.ROOT, "  %-28s %6s %7s%s%n", "outcome", "conns", "%",
                early ? "  before the stop" : ""));
        for (StopOutcome o : StopOutcome.values()) {
            long c = count(o);
            String note = "";
            if (o == StopOutcome.RESET || o == StopOutcome.STILL_OPEN || o == StopOutcome.TRUNCATED
                    || o == StopOutcome.ERROR || o == StopOutcome.BAD_RESPONSE) {
                note = c == 0 ? "" : String.format(Locale.ROOT, "  (%d with a request outstanding)",
                        countOutstanding(o));
            }
            String before = early ? String.format(Locale.ROOT, "  %16d", countBeforeStop(o)) : "";
            b.append(String.format(Locale.ROOT, "  %-28s %6d %6.1f%%%s%s%n", o.label(), c,
                    n == 0 ? 0.0 : 100.0 * c / n, before, note));
        }
        b.append(String.format(Locale.ROOT, "  replies: %,d before the stop, %,d after it (%,d of them with "
                + "Connection: close)%n", responsesBeforeStop(), responsesAfterStop(), closeResponsesAfterStop()));
        if (unexpectedReplies() > 0) {
            b.append(String.format(Locale.ROOT, "  replies other than +PONG: %,d%n", unexpectedReplies()));
        }
        if (early) {
            b.append(String.format(Locale.ROOT, "  WARNING: %d connection(s) ended before the stop, so their endings "
                    + "say nothing about it (a keep-alive request limit, e.g. nginx keepalive_requests? an idle "
                    + "timeout?)%n", endedBeforeStop()));
        }
        if (connectionsWithoutReplyBeforeStop() > 0) {
            b.append(String.format(Locale.ROOT, "  no reply before the stop: %d connection(s)%n",
                    connectionsWithoutReplyBeforeStop()));
        }
        long endedAfter = ends.stream().filter(e -> !Double.isNaN(e.endMillis())).count();
        if (endedAfter > 0) {
            b.append(String.format(Locale.ROOT, "  end after the stop signal: p50 %.1f ms, max %.1f ms (%d "
                    + "connection(s))%n", endMillisPercentile(50), endMillisMax(), endedAfter));
        }
        if (processWatched) {
            b.append(Double.isNaN(processExitMillis)
                    ? String.format(Locale.ROOT, "  the process was still alive %.1f s after the signal%n",
                            deadlineMillis / 1000)
                    : String.format(Locale.ROOT, "  the process exited %.1f ms after the signal%n",
                            processExitMillis));
        }
        // One example of each ending that is not a clean one, so the table says what actually happened.
        for (StopOutcome o : StopOutcome.values()) {
            ends.stream().filter(e -> e.outcome() == o && e.detail() != null).findFirst().ifPresent(e ->
                    b.append(String.format(Locale.ROOT, "  e.g. %s: connection %d: %s%n", o.label(), e.index(),
                            e.detail())));
        }
        return b.toString();
    }

    /** The result as JSON: settings, counts per outcome, reply counts, end times, and every connection. */
    public String toJson() {
        ObjectNode n = BenchJson.object();
        n.put("target", target);
        n.put("protocol", protocol);
        n.put("connections", connections);
        n.put("connected", connected);
        n.put("connectError", connectError);
        n.put("stop", stopLabel);
        n.put("stopAfterMs", stopAfterMillis);
        n.put("deadlineMs", deadlineMillis);
        n.put("stopTriggered", stopTriggered);
        n.put("stopError", stopError);
        ObjectNode outcomes = n.putObject("outcomes");
        ObjectNode outstanding = n.putObject("outcomesWithRequestOutstanding");
        ObjectNode beforeStop = n.putObject("outcomesBeforeStop");
        for (StopOutcome o : StopOutcome.values()) {
            outcomes.put(o.name(), count(o));
            outstanding.put(o.name(), countOutstanding(o));
            beforeStop.put(o.name(), countBeforeStop(o));
        }
        n.put("responsesBeforeStop", responsesBeforeStop());
        n.put("responsesAfterStop", responsesAfterStop());
        n.put("closeResponsesAfterStop", closeResponsesAfterStop());
        n.put("unexpectedReplies", unexpectedReplies());
        n.put("endedBeforeStop", endedBeforeStop());
        BenchJson.number(n, "endAfterStopP50Ms", endMillisPercentile(50));
        BenchJson.number(n, "endAfterStopMaxMs", endMillisMax());
        n.put("processWatched", processWatched);
        BenchJson.number(n, "processExitMs", processExitMillis);
        ArrayNode connectionEnds = n.putArray("connectionEnds");
        for (ConnectionEnd e : ends) {
            ObjectNode c = connectionEnds.addObject();
            c.put("index", e.index());
            c.put("outcome", e.outcome().name());
            c.put("requestOutstanding", e.requestOutstanding());
            c.put("endedBeforeStop", e.endedBeforeStop());
            BenchJson.number(c, "endMs", e.endMillis());
            c.put("responsesBeforeStop", e.responsesBeforeStop());
            c.put("responsesAfterStop", e.responsesAfterStop());
            c.put("closeResponsesAfterStop", e.closeResponsesAfterStop());
            c.put("unexpectedReplies", e.unexpectedReplies());
            c.put("detail", e.detail());
        }
        return BenchJson.write(n);
    }

    /** The table, so an assertion message shows what happened. */
    @Override
    public String toString() {
        return table();
    }
}
