package dev.serverframework.examples.bench;

import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Request;
import dev.serverframework.http.Response;
import dev.serverframework.http.websocket.WebSocketHandler;
import dev.serverframework.http.websocket.WebSocketOptions;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The server side of {@code bench broadcast}, for an HTTP server of this framework ({@code httpd
 * --broadcast-bench} installs it):
 * <ul>
 *   <li>{@code GET /ws}: a WebSocket endpoint whose sockets form the service {@value #SERVICE}. It reads
 *       nothing from them; the idle timeout (the route's, else the server's) pings them.</li>
 *   <li>{@code POST /ws/broadcast?rate=R&messages=M&size=S&max-in-flight=F}: the server broadcasts M
 *       binary messages of S bytes (at least 16), R per second, from a {@link Server#runEvery} schedule,
 *       each {@link dev.serverframework.http.websocket.PreparedMessage prepared} once and sent to every
 *       socket of the service by one {@link Server#each}; a message falls due while F broadcasts are still
 *       on their way is skipped, and counted, so a server that cannot keep up stays bounded in memory. The
 *       answer comes when the last broadcast has run on every socket's executor: the run's figures in JSON
 *       ({@link BroadcastRun}). One run at a time: 409 while one is going on.</li>
 * </ul>
 * A message's payload starts with its sequence number (from 0 in each run, counting the messages sent,
 * not the skipped ones) and its send time in
 * microseconds by the wall clock ({@link WallClock}: the load processes are other JVMs), both 8-byte big
 * endian. The control route lets any client make the server work hard: install it on benchmark servers only.
 * Thread-safe.
 */
public final class BroadcastEndpoint {
    /** The service name of the endpoint's sockets, which each broadcast reaches. */
    public static final String SERVICE = "broadcast";
    /** The WebSocket endpoint's path. */
    public static final String PATH = "/ws";
    /** The control route's path. */
    public static final String CONTROL_PATH = PATH + "/broadcast";
    /** Where a payload carries the message's sequence number. */
    static final int SEQUENCE_OFFSET = 0;
    /** Where a payload carries the message's send time, microseconds since the epoch. */
    static final int SENT_AT_OFFSET = 8;
    /** The smallest payload: sequence number and send time. */
    static final int MIN_SIZE = 16;
    /** The largest payload the control route takes: far below the route's message limit and its queue limit. */
    static final int MAX_SIZE = 16 * 1024;

    private final AtomicReference<BroadcastRun> running = new AtomicReference<>();

    private BroadcastEndpoint() {
    }

    /**
     * Adds {@value #PATH} and {@value #CONTROL_PATH} to {@code http}.
     *
     * @param idleTimeout quiet time after which a socket is pinged; null: the server's idle timeout
     */
    public static void install(HttpProtocol.Builder http, Duration idleTimeout) {
        WebSocketOptions.Builder options = WebSocketOptions.builder().service(SERVICE);
        if (idleTimeout != null) {
            options.idleTimeout(idleTimeout);
        }
        BroadcastEndpoint endpoint = new BroadcastEndpoint();
        http.websocket(PATH, options.build(), new WebSocketHandler() { });
        http.postAsync(CONTROL_PATH, endpoint::control);
    }

    /** The control route: checks the parameters, starts the run, answers when it is over. */
    private CompletionStage<Response> control(Request request) {
        BroadcastRun run;
        try {
            double rate = number(request, "rate", Double.NaN);
            long messages = (long) number(request, "messages", Double.NaN);
            int size = (int) number(request, "size", MIN_SIZE);
            if (!(rate > 0 && rate <= 1_000_000)) {
                throw new IllegalArgumentException("rate must be more than 0 and at most 1000000 messages/s");
            }
            if (messages < 1 || messages > 100_000_000) {
                throw new IllegalArgumentException("messages must be 1 to 100000000");
            }
            if (size < MIN_SIZE || size > MAX_SIZE) {
                throw new IllegalArgumentException("size must be " + MIN_SIZE + " to " + MAX_SIZE + " bytes");
            }
            int maxInFlight = (int) number(request, "max-in-flight", Math.max(4, Math.ceil(2 * rate)));
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("max-in-flight must be at least 1");
            }
            run = new BroadcastRun(request.connection().server(), rate, (int) messages, size, maxInFlight);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(Response.text(e.getMessage() + "\n").withStatus(400));
        }
        if (!running.compareAndSet(null, run)) {
            return CompletableFuture.completedFuture(
                    Response.text("a broadcast run is going on; try again when it is over\n").withStatus(409));
        }
        CompletableFuture<String> report;
        try {
            report = run.start();
        } catch (RuntimeException e) {
            // The server is stopping: its scheduler takes no more tasks.
            running.set(null);
            throw e;
        }
        return report.handle((json, failure) -> {
            running.set(null);
            return failure == null ? Response.json(json)
                    : Response.text("the run failed: " + failure + "\n").withStatus(500);
        });
    }

    /** A query parameter as a number; {@code absent} when it is not given (NaN: it must be). */
    private static double number(Request request, String name, double absent) {
        String v = request.queryParam(name);
        if (v == null) {
            if (Double.isNaN(absent)) {
                throw new IllegalArgumentException(name + " is missing");
            }
            return absent;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number, got " + v);
        }
    }
}
