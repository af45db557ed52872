package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LeakDetectionExtension;
import dev.serverframework.core.testing.RawClient;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, goal 5: mutated requests (see {@link FuzzInputs}) on raw sockets, in both execution modes, on
 * fresh connections and on connections that have served a request, sent in random small writes. For every
 * input the server gives well-formed responses ({@link ResponseStreamCheck}) and closes, or, when the
 * client does not end its input, answers or waits, all within the read timeout; afterwards it still serves a
 * fresh connection, has closed every connection, had no protocol callback fail, and leaked no buffer at
 * Netty's paranoid leak detection.
 *
 * <p>The seed is logged at the start and named in every failure; replay with {@code -Dfuzz.seed=N}, one
 * input alone with {@code -Dfuzz.input=I} as well, and more inputs with {@code -Dfuzz.inputs=N}.
 */
@ExtendWith(LeakDetectionExtension.class)
class HttpFuzzTest {
    private static final Logger log = LoggerFactory.getLogger(HttpFuzzTest.class);

    private static final long SEED = Long.getLong("fuzz.seed", new SecureRandom().nextLong());
    private static final int INPUTS = Integer.getInteger("fuzz.inputs", 2000);
    private static final int ONLY = Integer.getInteger("fuzz.input", -1);
    private static final Duration HEADER_TIMEOUT = Duration.ofMillis(300);
    /** How long a read waits: the header timeout and ample room for a loaded two-core machine. */
    private static final int READ_TIMEOUT_MS = 3000;
    /** How long a client that keeps its input open waits for more: past the header timeout's 408. */
    private static final int QUIET_MS = (int) HEADER_TIMEOUT.toMillis() + 700;
    private static final int CLIENTS = 4;
    private static final byte[] WARM_UP = get("/").getBytes(StandardCharsets.US_ASCII);

    private static ResourceLeakDetector.Level levelBefore;

    private Server server;

    @BeforeAll
    static void paranoidLeakDetection() {
        levelBefore = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        log.info("HTTP fuzz: seed {}, {} inputs per mode (replay: -Dfuzz.seed={})", SEED, INPUTS, SEED);
    }

    @AfterAll
    static void restoreLeakDetection() {
        ResourceLeakDetector.setLevel(levelBefore);
    }

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder()
                .execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                .post("/echo", r -> Response.text("echo:" + r.bodyText()))
                .getAsync("/async", r -> CompletableFuture.supplyAsync(() -> Response.text("async")))
                .get("/stream", r -> Response.stream(
                        new ByteArrayInputStream("streamed".getBytes(StandardCharsets.US_ASCII)), "text/plain"))
                .maxInitialLineLength(256)
                .maxHeaderSize(1024)
                .maxBodySize(256)
                .headerTimeout(HEADER_TIMEOUT)
                .build());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void mutatedRequestsGetWellFormedResponsesOrAClose(Execution mode) throws Exception {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        start(mode);
        long started = System.nanoTime();
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger sent = new AtomicInteger();
        Map<String, AtomicInteger> outcomes = new ConcurrentSkipListMap<>();
        int first = ONLY >= 0 ? ONLY : 0;
        int end = ONLY >= 0 ? ONLY + 1 : INPUTS;
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            for (int i = first; i < end; i++) {
                int index = i;
                clients.execute(() -> {
                    String failure = fuzzOne(mode, index, outcomes);
                    sent.incrementAndGet();
                    if (failure != null) {
                        failures.add(failure);
                    }
                });
            }
        } finally {
            clients.shutdown();
        }
        assertTrue(clients.awaitTermination(5, TimeUnit.MINUTES), "fuzz clients did not finish; seed " + SEED);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        log.info("HTTP fuzz, {} mode: {} inputs in {} ms, {} failed (seed {}); responses and ends seen: {}", mode,
                sent.get(), millis, failures.size(), SEED, outcomes);
        if (!failures.isEmpty()) {
            List<String> shown = new ArrayList<>(failures).subList(0, Math.min(3, failures.size()));
            throw new AssertionError(failures.size() + " of " + sent.get() + " fuzz inputs failed (seed " + SEED
                    + ", replay one with -Dfuzz.seed=" + SEED + " -Dfuzz.input=I); the first:\n"
                    + String.join("\n\n", shown));
        }
        assertEquals(end - first, sent.get(), "every input was sent and judged (seed " + SEED + ")");

        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/"));
            assertEquals("Hello World!", read(c).bodyText(), "the server still serves a fresh connection");
        }
        Await.until("every fuzzed connection closed (seed " + SEED + ")", Duration.ofSeconds(10),
                () -> server.statistics().service("http").open() == 0);
        assertEquals(0, server.statistics().callbackFailures(), "a protocol callback failed (seed " + SEED + ")");
        HttpTestSupport.stop(server);
        server = null;
        LeakDetectionExtension.collectLeaks();
        List<String> leaks = LeakDetectionExtension.drainLeaks();
        assertTrue(leaks.isEmpty(), leaks.size() + " buffer leak(s) (seed " + SEED + "); first:\n"
                + (leaks.isEmpty() ? "" : leaks.get(0)));
    }

    /** Sends input {@code index} on a connection of its own; returns what went wrong, or null. */
    private String fuzzOne(Execution mode, int index, Map<String, AtomicInteger> outcomes) {
        Random r = new Random(SEED + 0x9E3779B97F4A7C15L * (index + 1));
        FuzzInputs.Input input = FuzzInputs.next(r);
        boolean afterARequest = r.nextInt(3) == 0;
        boolean endsInput = r.nextInt(40) != 0;
        int maxWrite = new int[] {1, 3, 16, 64, Integer.MAX_VALUE}[r.nextInt(5)];
        String setting = String.format("input %d (seed %d, %s mode, %s, %s, writes of at most %s bytes): %s",
                index, SEED, mode, afterARequest ? "after a request on the connection" : "fresh connection",
                endsInput ? "then the client ends its input" : "the client keeps its input open",
                maxWrite == Integer.MAX_VALUE ? "all" : maxWrite, input.description());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            s.setTcpNoDelay(true);
            s.setSoTimeout(READ_TIMEOUT_MS);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            if (afterARequest) {
                out.write(WARM_UP);
                String warm = readWarmUpResponse(in);
                if (warm != null) {
                    return setting + "\n  the request before it: " + warm;
                }
            }
            sendInPieces(out, input.bytes(), maxWrite, r);
            if (endsInput) {
                shutdownOutputQuietly(s);
            } else {
                s.setSoTimeout(QUIET_MS);
            }
            Outcome outcome = readAll(in, got);
            String problem = judge(input, outcome, endsInput, got.toByteArray(), outcomes);
            return problem == null ? null : setting + "\n  sent: " + FuzzInputs.escape(input.bytes(), 2000)
                    + "\n  got:  " + FuzzInputs.escape(got.toByteArray(), 2000) + "\n  " + problem;
        } catch (IOException | RuntimeException e) {
            return setting + "\n  sent: " + FuzzInputs.escape(input.bytes(), 2000) + "\n  client failed: " + e;
        }
    }

    private enum Outcome { ENDED, QUIET, RESET }

    private static String judge(FuzzInputs.Input input, Outcome outcome, boolean endedInput, byte[] got,
                                Map<String, AtomicInteger> outcomes) {
        outcomes.computeIfAbsent(outcome.name().toLowerCase(Locale.ROOT), k -> new AtomicInteger()).incrementAndGet();
        if (outcome == Outcome.RESET) {
            return "the server reset the connection instead of closing it";
        }
        if (outcome == Outcome.QUIET && endedInput) {
            return "the server neither answered nor closed within " + READ_TIMEOUT_MS + " ms of the client's end of input";
        }
        ResponseStreamCheck.Result result = ResponseStreamCheck.check(got, outcome == Outcome.ENDED, input.mayHoldHead());
        if (result.error() != null) {
            return result.error();
        }
        for (int status : result.statuses()) {
            outcomes.computeIfAbsent(String.valueOf(status), k -> new AtomicInteger()).incrementAndGet();
        }
        // Valid requests get 100, 2xx, or 404 for the corpus's path that has no route.
        if (!input.mutated() && result.statuses().stream().anyMatch(s -> s >= 300 && s != 404)) {
            return "valid requests got " + result.statuses();
        }
        return null;
    }

    /** Writes the bytes in pieces of random sizes up to {@code maxWrite}; stops when the server has closed. */
    private static void sendInPieces(OutputStream out, byte[] bytes, int maxWrite, Random r) {
        int at = 0;
        try {
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, maxWrite == Integer.MAX_VALUE ? bytes.length : 1 + r.nextInt(maxWrite));
                out.write(bytes, at, n);
                out.flush();
                at += n;
            }
        } catch (IOException closedByServer) {
            // The server answered an error and closed before the rest: what it sent is still to be read.
        }
    }

    private static void shutdownOutputQuietly(Socket s) {
        try {
            s.shutdownOutput();
        } catch (IOException closedByServer) {
            // Already closed by the server: reading tells the rest.
        }
    }

    /** Reads until the end of stream, a reset, or the socket's read timeout. */
    private static Outcome readAll(InputStream in, ByteArrayOutputStream got) {
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
            return Outcome.ENDED;
        } catch (SocketTimeoutException e) {
            return Outcome.QUIET;
        } catch (IOException e) {
            return Outcome.RESET;
        }
    }

    /** Reads the response to {@link #WARM_UP}; returns what is wrong with it, or null. */
    private static String readWarmUpResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        String expectedEnd = "\r\n\r\nHello World!";
        while (true) {
            int b = in.read();
            if (b < 0) {
                return "connection closed after " + FuzzInputs.escape(head.toByteArray(), 500);
            }
            head.write(b);
            if (head.size() > 4096) {
                return "response too long: " + FuzzInputs.escape(head.toByteArray(), 500);
            }
            if (b != '!') {
                continue;
            }
            String s = head.toString(StandardCharsets.ISO_8859_1);
            if (s.endsWith(expectedEnd)) {
                boolean ok = s.startsWith("HTTP/1.1 200 OK\r\n")
                        && s.toLowerCase(Locale.ROOT).contains("\r\ncontent-length: 12\r\n");
                return ok ? null : "unexpected response " + FuzzInputs.escape(head.toByteArray(), 500);
            }
        }
    }
}
