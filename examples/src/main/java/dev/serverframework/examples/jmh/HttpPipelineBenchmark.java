package dev.serverframework.examples.jmh;

import dev.serverframework.core.Protocol;
import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.Response;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The cost of one HTTP request through a server's pipeline, in time and in bytes allocated: the
 * framework's ({@link HttpProtocol} on a {@link Server}) next to raw Netty's {@code HttpServerCodec} with one
 * hello handler. Client and server share one JVM and talk over loopback, so the figures are steadier than
 * wrk's and {@code -prof gc} sees the server's allocation.
 *
 * <h2>What it measures</h2>
 * {@code @Param server}, each started once per trial on {@code 127.0.0.1} and an ephemeral port:
 * <ul>
 *   <li>{@code raw-netty}: {@link RawNettyHello}, the raw Netty reference server's pipeline and handler
 *       copied as is ({@code HttpServerCodec} + a hello handler on the event loop), 1 event loop, epoll.</li>
 *   <li>{@code framework-io}: a {@link Server} with an {@link HttpProtocol} in
 *       {@link Protocol.Execution#IO_LOOP} mode and the {@code GET /} route of the {@code httpd} example
 *       ("Hello World!", {@code text/plain}), 1 I/O thread, 1 worker, no metrics, other settings at their
 *       defaults (transport {@code AUTO}: epoll here).</li>
 *   <li>{@code framework-worker}: the same in {@link Protocol.Execution#WORKER} mode: the handler runs on the
 *       worker, so each batch crosses I/O thread → worker → I/O thread.</li>
 * </ul>
 * The client ({@link PipelinedHelloClient}) is one blocking {@code java.net.Socket} with {@code TCP_NODELAY}.
 * An invocation writes a batch of pipelined {@code GET / HTTP/1.1} requests in one write, from a byte array
 * made at setup, and reads until the batch's responses have arrived, into a reused byte array. A server's
 * responses all have one length ({@code Date} has a fixed width), measured at setup from a strict parse of
 * the first response, so the client counts bytes and allocates nothing.
 * <ul>
 *   <li>{@code batch1}: one request per invocation: a ping-pong round trip, two loopback writes and the
 *       wake-ups and syscalls around them included.</li>
 *   <li>{@code batch16}: {@value #PIPELINED} pipelined requests per invocation, which arrive in one write
 *       (one read for the server, if it keeps up): the round trip's cost is shared by 16 requests, so the
 *       per-request cost of the pipeline dominates.</li>
 * </ul>
 * Both are normalised per request with {@code @OperationsPerInvocation}: <b>one op is one request</b>, in
 * the time and in the allocation figures alike. (The batch is a benchmark method rather than a
 * {@code @Param} because {@code @OperationsPerInvocation} takes a constant.)
 *
 * <h2>Checks</h2>
 * Setup fails unless the first response parses strictly as {@code HTTP/1.1 200 OK} with the body
 * "Hello World!" and a {@code Content-Length}, and a pipelined batch of {@value #PIPELINED} gives as many such
 * responses of that same length and nothing more. After every iteration the last batch is parsed again, so
 * a run cannot silently measure errors; {@code HttpPipelineBenchmarkTest} runs setup, one operation of each
 * batch and teardown for every server.
 *
 * <h2>How to run</h2>
 * <pre>{@code
 * mvn -B -q -pl examples -am package -DskipTests
 * java -jar examples/target/server-framework-examples.jar jmh HttpPipeline -prof gc
 * }</pre>
 * About 3 minutes: 6 trials (3 servers × 2 batches), each in a fork with a 256 MiB heap, 15 s of warm-up and
 * 5 × 2 s of measurement. {@code -p server=framework-io,raw-netty} picks servers;
 * {@code 'HttpPipeline.*batch16'} picks a batch.
 *
 * <h2>How to read the figures</h2>
 * <ul>
 *   <li>{@code ns/op} (the score): nanoseconds per request, average, end to end from the client's write to
 *       its last read. It includes the client's syscalls and the loopback, the same for every server, so
 *       compare servers with each other rather than reading it as the server's CPU time. On a 2-core machine
 *       the client, the I/O thread and (in worker mode) the worker share the cores.</li>
 *   <li>{@code gc.alloc.rate.norm} (with {@code -prof gc}): bytes allocated per request. JMH counts the
 *       allocation of all the JVM's threads over the iteration and divides it by the ops, so it includes the
 *       server's event loop and worker; the client allocates nothing per operation (the unit test checks
 *       this), so the figure is the server's allocation per request, plus JMH's own, which is nearly
 *       nothing. {@code gc.alloc.rate} is the same in MB/s; {@code gc.count} and {@code gc.time} say whether
 *       collections happened during measurement.</li>
 * </ul>
 * The machine's other load shows in ns/op (tens of percent on a shared VM): compare runs made back to back.
 * The allocation figure hardly varies; it is the one to watch when an optimisation removes allocation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// The framework's INFO lines (listening, stopping) would land in the middle of JMH's iteration lines;
// setUp prints the port and transport instead.
@Fork(value = 1, jvmArgsAppend = {"-Xms256m", "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 2)
@Threads(1)
public class HttpPipelineBenchmark {
    /** Requests per invocation of {@link #batch16}, and the largest batch the client is made for. */
    static final int PIPELINED = 16;

    private static final byte[] HELLO = "Hello World!".getBytes(StandardCharsets.US_ASCII);

    /** The server under test: {@code raw-netty}, {@code framework-io} or {@code framework-worker}. */
    @Param({"raw-netty", "framework-io", "framework-worker"})
    public String server;

    private RawNettyHello rawNetty;
    private Server framework;
    /** The client, connected to the server; the ops use it. */
    PipelinedHelloClient client;

    /** Starts the server, connects the client and checks the server's responses. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        int port;
        String transport;
        switch (server) {
            case "raw-netty" -> {
                rawNetty = RawNettyHello.start(1);
                port = rawNetty.port();
                transport = rawNetty.transport();
            }
            case "framework-io", "framework-worker" -> {
                framework = startFramework(server.equals("framework-io")
                        ? Protocol.Execution.IO_LOOP : Protocol.Execution.WORKER);
                port = framework.port();
                transport = framework.transport().name().toLowerCase();
            }
            default -> throw new IllegalArgumentException(
                    "server must be raw-netty, framework-io or framework-worker, got " + server);
        }
        try {
            client = PipelinedHelloClient.connect(port, PIPELINED);
        } catch (IOException | RuntimeException e) {
            stopServer();
            throw e;
        }
        System.out.printf("%n%s on 127.0.0.1:%d (%s): responses of %d bytes%n",
                server, port, transport, client.responseLength());
    }

    private static Server startFramework(Protocol.Execution execution) {
        HttpProtocol http = HttpProtocol.builder()
                .execution(execution)
                .get("/", req -> Response.bytes(HELLO, "text/plain")) // the route of the httpd example
                .build();
        return Server.builder()
                .bindAddress("127.0.0.1")
                .port(0)
                .protocol(http)
                .ioThreads(1)
                .workers(1)
                .shutdownHook(false)
                .build()
                .start();
    }

    /** Parses the last batch's responses strictly: the iteration measured correct answers. */
    @TearDown(Level.Iteration)
    public void verifyLastBatch() {
        client.verifyLastExchange();
    }

    /** Closes the client and stops the server. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException {
        try {
            if (client != null) {
                client.close();
            }
        } finally {
            stopServer();
        }
    }

    private void stopServer() throws InterruptedException {
        if (rawNetty != null) {
            rawNetty.stop();
            rawNetty = null;
        }
        if (framework != null) {
            framework.stop();
            if (!framework.awaitTermination(Duration.ofSeconds(10))) {
                throw new IllegalStateException(server + " did not stop within 10 s");
            }
            framework = null;
        }
    }

    /** One request and its response: a ping-pong round trip. */
    @Benchmark
    public int batch1() throws IOException {
        return client.exchange(1);
    }

    /** {@value #PIPELINED} pipelined requests and their responses; the score is per request. */
    @Benchmark
    @OperationsPerInvocation(PIPELINED)
    public int batch16() throws IOException {
        return client.exchange(PIPELINED);
    }
}
