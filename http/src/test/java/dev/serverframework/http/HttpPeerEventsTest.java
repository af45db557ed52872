package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.ServerStatistics;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What peers do to connections (close in the middle of a request, reset) is counted, once, and logged quietly:
 * no WARN line, no exception, no stack trace on the console (the tests' slf4j-simple writes WARN and
 * above to System.err, which the test captures), and the server goes on serving.
 */
class HttpPeerEventsTest {
    private static final int CONNECTIONS = 200;
    private static final String PROBE = "probe: this test sees what the server logs";
    /** A request head announcing 1000 bytes of body, and 70 of them. */
    private static final String CUT_BODY = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "b".repeat(70);
    /** A request head without its end. */
    private static final String CUT_HEAD = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n";

    private Server server;
    private ExecutorService pool;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "client threads did not end");
        }
        HttpTestSupport.stop(server);
    }

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                .post("/echo", r -> Response.text("echo:" + r.bodyText()))
                .build());
    }

    /** Both modes, with the request cut in its body (the case asked about) and in its head. */
    static Stream<Arguments> cuts() {
        return Stream.of(Execution.values())
                .flatMap(mode -> Stream.of(Arguments.of(mode, "body", CUT_BODY), Arguments.of(mode, "head", CUT_HEAD)));
    }

    @ParameterizedTest(name = "{0}, cut in the {1}")
    @MethodSource("cuts")
    void clientsClosingInTheMiddleOfARequestAreCountedWithoutAWarning(Execution mode, String where, String partial)
            throws Exception {
        start(mode);
        ServerStatistics stats = server.statistics();
        String log = capturingStandardError(() -> {
            burst(c -> {
                c.send(partial);
                c.close();
            });
            Await.until("every connection closed in the middle of a request " + where + " to be counted",
                    () -> stats.closedMidMessage() == CONNECTIONS);
            Await.until("every connection to be gone", () -> server.count(null) == 0);
            assertServesNormally();
        });
        assertEquals(0, stats.protocolErrors(), "a request cut short is not bad input");
        assertEquals(0, stats.resets());
        assertQuiet(log);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void clientsResettingInTheMiddleOfABodyAreCountedWithoutAWarning(Execution mode) throws Exception {
        start(mode);
        ServerStatistics stats = server.statistics();
        String log = capturingStandardError(() -> {
            burst(c -> {
                c.send(CUT_BODY);
                c.reset();
            });
            Await.until("every connection to be gone", () -> server.count(null) == 0
                    && stats.closed() == CONNECTIONS);
            assertServesNormally();
        });
        assertEquals(0, stats.protocolErrors(), "a reset is not bad input");
        assertEquals(CONNECTIONS, stats.resets());
        assertEquals(0, stats.closedMidMessage(), "a reset connection is counted once, as a reset");
        assertQuiet(log);
    }

    /** Opens {@value #CONNECTIONS} connections from 4 threads and does {@code each} with every one. */
    private void burst(Consumer<RawClient> each) throws Exception {
        int threads = 4;
        pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            done.add(pool.submit(() -> {
                for (int i = 0; i < CONNECTIONS / threads; i++) {
                    each.accept(new RawClient(server.port()));
                }
            }));
        }
        for (Future<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
    }

    private void assertServesNormally() {
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/"));
            RawResponse r = read(c);
            assertEquals(200, r.status());
            assertEquals("Hello World!", r.bodyText());
        }
    }

    /** Something to run while standard error is captured. */
    private interface Action {
        void run() throws Exception;
    }

    /**
     * Runs {@code action} with System.err teed into a buffer; returns what was written. A WARN probe logged
     * first proves that the server's logger writes where the test looks.
     */
    private static String capturingStandardError(Action action) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
        try {
            LoggerFactory.getLogger(HttpPeerEventsTest.class).warn(PROBE);
            action.run();
        } finally {
            System.err.flush();
            System.setErr(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains(PROBE), "the log capture saw nothing; it cannot vouch for the server's silence");
        return text;
    }

    /** Asserts that, but for the probe, no warning, exception or stack trace was logged. */
    private static void assertQuiet(String log) {
        List<String> loud = log.lines()
                .filter(line -> !line.contains(PROBE))
                .filter(line -> line.contains("WARN") || line.contains("Exception") || line.contains("\tat "))
                .toList();
        assertTrue(loud.isEmpty(), "peer-caused events were logged loudly:\n" + String.join("\n", loud));
    }

    /** Writes to two streams. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
