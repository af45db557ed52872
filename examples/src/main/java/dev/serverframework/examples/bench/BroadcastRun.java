package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.serverframework.core.Connection;
import dev.serverframework.core.Server;
import dev.serverframework.http.websocket.PreparedMessage;
import dev.serverframework.http.websocket.WebSocket;
import io.netty.util.concurrent.ScheduledFuture;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One broadcast run of a {@link BroadcastEndpoint}: {@code messages} messages at {@code rate} per second,
 * each sent to every socket of the endpoint's service by one {@link Server#each}.
 *
 * <p><b>Schedule.</b> A {@link Server#runEvery} tick (every 1/rate, at least every millisecond) sends every
 * message that has fallen due by then: the {@code i}th is due {@code i / rate} after the first tick. A tick
 * runs on a worker, behind the tasks queued there, so a server that cannot keep up ticks late and sends
 * what is overdue at once; how late each message went out is its <em>lag</em>. A message due while
 * {@code maxInFlight} broadcasts have not yet run on all their sockets is skipped instead.
 *
 * <p><b>Figures</b> ({@link #report}, JSON): messages sent and skipped, sockets targeted, sends taken and
 * refused (a socket closing, or closed for reading too slowly), the first and last send times, the lag and
 * the fan-out (from a message's send time until its {@code each} has run on every socket, by its
 * {@code onFinish}) in microseconds.
 *
 * <p>Threads: {@link #start} on the control request's executor; the ticks on one worker; the sends on the
 * sockets' executors; the fan-outs' ends on workers. The last of them completes the run.
 */
final class BroadcastRun {
    private final Server server;
    private final double rate;
    private final int messages;
    private final int size;
    private final int maxInFlight;
    private final long tickNanos;
    private final CompletableFuture<String> done = new CompletableFuture<>();
    private final Recorder lag = new Recorder(3);
    private final Recorder fanOut = new Recorder(3);
    private final LongAdder sendsTaken = new LongAdder();
    private final LongAdder sendsRefused = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    /** One for the schedule until it has decided its last message, and one per broadcast not yet finished. */
    private final AtomicInteger pending = new AtomicInteger(1);
    private volatile ScheduledFuture<?> timer;
    private volatile boolean scheduleOver;

    // The schedule's state: written by the ticks only; read by the report after the last release.
    private long firstTickNanos;
    private int decided;
    private int sent;
    private int skipped;
    private long targets;
    private long firstSentMicros = -1;
    private long lastSentMicros = -1;

    BroadcastRun(Server server, double rate, int messages, int size, int maxInFlight) {
        this.server = server;
        this.rate = rate;
        this.messages = messages;
        this.size = size;
        this.maxInFlight = maxInFlight;
        this.tickNanos = Math.max(1_000_000L, Math.round(1e9 / rate));
    }

    /** Starts the schedule; the stage completes with the report when the last broadcast has finished. */
    CompletableFuture<String> start() {
        firstTickNanos = System.nanoTime() + tickNanos;
        ScheduledFuture<?> t = server.runEvery(Duration.ofNanos(tickNanos), 0, this::tick);
        timer = t;
        if (scheduleOver) {
            t.cancel(false);
        }
        return done;
    }

    /** Sends what has fallen due; after the last message, ends the schedule. */
    private void tick() {
        if (scheduleOver) {
            return;
        }
        long now = System.nanoTime();
        long due = Math.min(messages, Math.max(0, (long) Math.floor((now - firstTickNanos) * rate / 1e9) + 1));
        while (decided < due) {
            int i = decided++;
            long intended = firstTickNanos + Math.round(i * 1e9 / rate);
            lag.recordValue(Math.max(0, now - intended) / 1000);
            if (inFlight.get() >= maxInFlight) {
                skipped++;
            } else {
                broadcast();
                // A broadcast to many sockets takes a while: the next message's lag counts it.
                now = System.nanoTime();
            }
        }
        if (decided == messages) {
            scheduleOver = true;
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
            release();
        }
    }

    /**
     * The next message, prepared once, to every socket of the service. Its sequence number counts the
     * messages sent, skipped ones left out, so that a receiver's gap is a message lost.
     */
    private void broadcast() {
        int seq = sent++;
        long sentAt = WallClock.micros();
        byte[] payload = new byte[size];
        ByteBuffer.wrap(payload).putLong(BroadcastEndpoint.SEQUENCE_OFFSET, seq)
                .putLong(BroadcastEndpoint.SENT_AT_OFFSET, sentAt);
        PreparedMessage message = PreparedMessage.binary(payload);
        if (firstSentMicros < 0) {
            firstSentMicros = sentAt;
        }
        lastSentMicros = sentAt;
        inFlight.incrementAndGet();
        pending.incrementAndGet();
        targets += server.each(null, BroadcastEndpoint.SERVICE, c -> send(c, message), () -> finished(sentAt));
    }

    /** On the socket's executor. */
    private void send(Connection c, PreparedMessage message) {
        WebSocket socket = WebSocket.of(c);
        if (socket != null && socket.send(message)) {
            sendsTaken.increment();
        } else {
            sendsRefused.increment();
        }
    }

    /** A broadcast has run on every socket. */
    private void finished(long sentAt) {
        fanOut.recordValue(Math.max(0, WallClock.micros() - sentAt));
        inFlight.decrementAndGet();
        release();
    }

    private void release() {
        if (pending.decrementAndGet() == 0) {
            done.complete(report());
        }
    }

    /** The run's figures, once it is over. */
    private String report() {
        Histogram l = lag.getIntervalHistogram();
        Histogram f = fanOut.getIntervalHistogram();
        ObjectNode n = BenchJson.object();
        n.put("messages", messages);
        n.put("sent", sent);
        n.put("skipped", skipped);
        n.put("targets", targets);
        n.put("sendsTaken", sendsTaken.sum());
        n.put("sendsRefused", sendsRefused.sum());
        n.put("maxInFlight", maxInFlight);
        n.put("firstSentMicros", firstSentMicros);
        n.put("lastSentMicros", lastSentMicros);
        n.put("lagP50Micros", l.getValueAtPercentile(50));
        n.put("lagP99Micros", l.getValueAtPercentile(99));
        n.put("lagMaxMicros", l.getMaxValue());
        n.put("fanOutP50Micros", f.getValueAtPercentile(50));
        n.put("fanOutP99Micros", f.getValueAtPercentile(99));
        n.put("fanOutMaxMicros", f.getMaxValue());
        return BenchJson.write(n);
    }
}
