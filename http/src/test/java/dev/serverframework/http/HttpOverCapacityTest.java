package dev.serverframework.http;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.serverframework.http.HttpTestSupport.assertCleanEof;
import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static dev.serverframework.http.HttpTestSupport.silentFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A client over {@code maxConnections} is refused in HTTP: a well-formed {@code 503 Service Unavailable}
 * with {@code Retry-After} and {@code Connection: close}, sent once its request head has arrived (or after
 * about a second of silence), followed by a clean end of stream, never a reset, whatever it sends.
 */
class HttpOverCapacityTest {
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

    private void start(Execution mode, int maxConnections) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                // A served connection must keep its place while the test runs, however slow the machine.
                .build(), b -> b.maxConnections(maxConnections).idleTimeout(Duration.ofMinutes(1)));
    }

    /** Checks a refusal: the exact 503, its body as long as it says, then a clean end of stream. */
    private static void assertRefused(RawResponse r, RawClient c) {
        assertEquals("HTTP/1.1 503 Service Unavailable", r.statusLine());
        assertEquals("1", r.header("Retry-After"));
        assertEquals("close", r.header("Connection"));
        assertEquals(String.valueOf(r.body().length), r.header("Content-Length"));
        assertEquals("Service Unavailable\n", new String(r.body(), StandardCharsets.US_ASCII));
        assertCleanEof(c);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void sixHundredClientsForTwoHundredPlacesAreEachServedOrRefusedWithA503(Execution mode) throws Exception {
        long fileLimit = ((UnixOperatingSystemMXBean)
                ManagementFactory.getOperatingSystemMXBean()).getMaxFileDescriptorCount();
        assumeTrue(fileLimit >= 2000, "needs about 1,200 open files; the limit here is " + fileLimit);
        int max = 200;
        int threads = 8;
        int perThread = 75;
        int clients = threads * perThread;
        start(mode, max);
        pool = Executors.newFixedThreadPool(threads);
        AtomicInteger served = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch answered = new CountDownLatch(clients);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            done.add(pool.submit(() -> {
                List<RawClient> mine = new ArrayList<>();
                try {
                    for (int i = 0; i < perThread; i++) {
                        RawClient c = new RawClient(server.port());
                        mine.add(c);
                        c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                    }
                    for (RawClient c : mine) {
                        try {
                            RawResponse r = read(c);
                            if (r.status() == 200) {
                                assertEquals("Hello World!", r.bodyText());
                                served.incrementAndGet();
                            } else {
                                assertRefused(r, c);
                                refused.incrementAndGet();
                                c.close();
                            }
                        } catch (RuntimeException | AssertionError e) {
                            failures.add(e.toString());
                        } finally {
                            answered.countDown();
                        }
                    }
                    // The served keep their places until every client has its answer.
                    answered.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    mine.forEach(RawClient::close);
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertTrue(failures.isEmpty(), failures.size() + " client(s) reset, cut short or badly answered; first: "
                + failures.peek());
        assertEquals(clients, served.get() + refused.get());
        assertEquals(max, served.get(), "the served held their places, so exactly maxConnections were served");
        assertEquals(refused.get(), server.statistics().rejected(), "every 503 is a counted refusal");
    }

    /** Takes the server's only place with a served keep-alive connection. */
    private RawClient holdTheOnlyPlace() {
        RawClient holder = new RawClient(server.port());
        holder.send(get("/"));
        assertEquals(200, read(holder).status());
        return holder;
    }

    @Test
    void aRefusedClientIsAnsweredOnlyOnceItsWholeRequestHeadArrived() throws Exception {
        start(Execution.WORKER, 1);
        try (RawClient holder = holdTheOnlyPlace(); RawClient c = new RawClient(server.port())) {
            // Split inside the blank line that ends the head.
            c.send("GET / HTTP/1.1\r\nHost: x\r\n\r");
            assertTrue(silentFor(c, 200), "the 503 went out before the request head was complete");
            c.send("\n");
            assertRefused(read(c), c);
            assertEquals(1, server.statistics().rejected());
        }
    }

    @Test
    void aRefusedClientThatSendsNothingGetsThe503AfterAboutASecond() {
        start(Execution.WORKER, 1);
        try (RawClient holder = holdTheOnlyPlace()) {
            long connected;
            long firstByte;
            try (RawClient c = new RawClient(server.port())) {
                connected = System.nanoTime();
                String statusLine = c.readLine();
                firstByte = System.nanoTime();
                assertEquals("HTTP/1.1 503 Service Unavailable", statusLine);
                // The rest of the answer, checked like any other.
                RawResponse rest = readRestOf503(c);
                assertRefused(rest, c);
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(firstByte - connected);
            assertTrue(millis >= 900 && millis < 3000, "the 503 to a silent client came after " + millis + " ms");
        }
    }

    /** The head and body of a 503 whose status line has been read already. */
    private static RawResponse readRestOf503(RawClient c) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while (!(line = c.readLine()).isEmpty()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    k -> new ArrayList<>()).add(line.substring(colon + 1).trim());
        }
        byte[] body = c.readExactly(Integer.parseInt(headers.get("content-length").get(0)));
        return new RawResponse("HTTP/1.1 503 Service Unavailable", 503, headers, body, false);
    }

    @Test
    void aRefusedClientSendingAOneMebibyteBodyGetsThe503AndACleanEndOfStream() {
        start(Execution.WORKER, 1);
        try (RawClient holder = holdTheOnlyPlace(); RawClient c = new RawClient(server.port())) {
            byte[] body = new byte[1 << 20];
            Arrays.fill(body, (byte) 'x');
            c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.send(body); // read and discarded by the server's lingering close, or this write would block
            assertRefused(read(c), c);
            assertEquals(1, server.statistics().rejected());
        }
    }
}
