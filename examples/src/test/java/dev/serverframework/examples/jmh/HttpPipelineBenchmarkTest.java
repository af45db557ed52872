package dev.serverframework.examples.jmh;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.annotations.Param;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HttpPipelineBenchmark} run by hand, without JMH: for every server it benchmarks, setup, one
 * operation of each batch and teardown, with the responses checked, so the benchmark cannot measure errors
 * unnoticed; and its client allocates nothing per operation, so {@code gc.alloc.rate.norm} is the server's.
 */
class HttpPipelineBenchmarkTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** The values of the benchmark's {@code server} parameter, so a new one is tested too. */
    static List<String> servers() throws NoSuchFieldException {
        return List.of(HttpPipelineBenchmark.class.getField("server").getAnnotation(Param.class).value());
    }

    @Test
    void theThreeServersAreBenchmarked() throws NoSuchFieldException {
        assertEquals(List.of("raw-netty", "framework-io", "framework-worker"), servers());
    }

    @ParameterizedTest
    @MethodSource("servers")
    void oneOperationOfEachBatchIsAnsweredCorrectly(String server) throws Exception {
        HttpPipelineBenchmark benchmark = new HttpPipelineBenchmark();
        benchmark.server = server;
        benchmark.setUp();
        try {
            PipelinedHelloClient client = benchmark.client;
            int length = client.responseLength();
            assertTrue(length > PipelinedHelloClient.BODY.length, "response length " + length);
            assertTimeoutPreemptively(TIMEOUT, () -> {
                assertEquals(length, benchmark.batch1());
                assertEquals(1, client.lastBatch());
                benchmark.verifyLastBatch();

                assertEquals(HttpPipelineBenchmark.PIPELINED * length, benchmark.batch16());
                assertEquals(HttpPipelineBenchmark.PIPELINED, client.lastBatch());
                benchmark.verifyLastBatch();
            });
            String response = client.lastResponse();
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
            assertTrue(response.endsWith("\r\n\r\nHello World!"), response);
        } finally {
            benchmark.tearDown();
        }
    }

    @Test
    void theClientAllocatesNothingPerOperation() throws Exception {
        HttpPipelineBenchmark benchmark = new HttpPipelineBenchmark();
        benchmark.server = "raw-netty";
        benchmark.setUp();
        try {
            assertTimeoutPreemptively(TIMEOUT, () -> {
                com.sun.management.ThreadMXBean threads =
                        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                // Until the JIT has settled, the first rounds allocate a little (first uses of the JDK's
                // per-thread socket buffers, deoptimisations); in the steady state JMH measures, nothing.
                int ops = 1000;
                List<Long> rounds = new ArrayList<>();
                for (int round = 0; round < 30; round++) {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < ops; i++) {
                        benchmark.batch1();
                        benchmark.batch16();
                    }
                    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                    rounds.add(allocated);
                    if (allocated == 0) {
                        break;
                    }
                }
                assertEquals(0, rounds.get(rounds.size() - 1),
                        "bytes the client allocated in successive rounds of " + 2 * ops + " ops: " + rounds);
                benchmark.verifyLastBatch();
            });
        } finally {
            benchmark.tearDown();
        }
    }

    @Test
    void theResponseParserIsStrict() {
        String ok = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 12\r\n\r\nHello World!";
        assertEquals(ok.length(), parse(ok));
        assertEquals(-1, parse(ok.substring(0, ok.length() - 1)), "body incomplete");
        assertEquals(-1, parse(ok.substring(0, 20)), "head incomplete");
        assertEquals(ok.length(), parse(ok + "HTTP/1.1"), "stops at the end of the first response");

        assertThrows(IllegalStateException.class, () -> parse(ok.replace("200 OK", "404 Not Found")));
        assertThrows(IllegalStateException.class, () -> parse(ok.replace("HTTP/1.1", "HTTP/1.0")));
        assertThrows(IllegalStateException.class, () -> parse(ok.replace("Hello World!", "Hello World?")));
        assertThrows(IllegalStateException.class, () -> parse(ok.replace("12", "11")));
        assertThrows(IllegalStateException.class, () -> parse(ok.replace("content-length: 12\r\n", "")));
        assertThrows(IllegalStateException.class,
                () -> parse(ok.replace("content-length: 12\r\n", "content-length: 12\r\ncontent-length: 12\r\n")));
        assertThrows(IllegalStateException.class,
                () -> parse(ok.replace("content-type", "transfer-encoding: chunked\r\ncontent-type")));
        assertThrows(IllegalStateException.class,
                () -> parse(ok.replace("content-type", "connection: close\r\ncontent-type")));
        assertThrows(IllegalStateException.class, () -> parse(ok.replace("content-type: ", "content-type ")));
        assertThrows(IllegalStateException.class, () -> parse(ok.replace("content-type", "content\ntype")));
    }

    private static int parse(String response) {
        byte[] b = response.getBytes(StandardCharsets.ISO_8859_1);
        return PipelinedHelloClient.parseResponse(b, 0, b.length);
    }
}
