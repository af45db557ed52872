package dev.serverframework.examples;

import dev.serverframework.examples.bench.StopOutcome;
import dev.serverframework.examples.bench.StopProbe;
import dev.serverframework.examples.bench.StopResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM to an example server in a child JVM, with 64 keep-alive clients in closed loops (the next
 * request as soon as the previous answer arrived) and a few quiet connections: no connection is reset,
 * no answer is cut short, HTTP tells every busy client to go with {@code Connection: close}, kv answers
 * what it read and ends each connection cleanly, the quiet connections close at once, and the process
 * exits. The judge of each connection's ending is {@code bench stop}'s probe.
 */
class GracefulStopCommandsTest {
    private static final int LOOPING = 64;
    private static final int QUIET = 4;

    private ChildCommand child;

    @AfterEach
    void killChild() throws Exception {
        if (child != null) {
            child.close();
        }
    }

    @Test
    void httpdInWorkerModeTellsEveryBusyClientToGo() throws Exception {
        StopResult r = stopUnderLoad(StopProbe.Protocol.HTTP, "httpd", "--mode", "worker");
        assertHttpClientsTold(r);
    }

    @Test
    void httpdInIoModeTellsEveryBusyClientToGo() throws Exception {
        StopResult r = stopUnderLoad(StopProbe.Protocol.HTTP, "httpd", "--mode", "io");
        assertHttpClientsTold(r);
    }

    @Test
    void kvAnswersWhatItReadAndEndsEveryConnectionCleanly() throws Exception {
        StopResult r = stopUnderLoad(StopProbe.Protocol.RESP, "kv");
        assertEquals(0, r.count(StopOutcome.RESET), r::table);
        assertEquals(0, r.count(StopOutcome.TRUNCATED), r::table);
        assertEquals(0, r.count(StopOutcome.BAD_RESPONSE), r::table);
        assertEquals(0, r.count(StopOutcome.STILL_OPEN), r::table);
        assertEquals(0, r.count(StopOutcome.ERROR), r::table);
        assertEquals(LOOPING, r.count(StopOutcome.CLOSED_AFTER_ANSWER) + r.count(StopOutcome.CLOSED_UNANSWERED),
                r::table);
        assertTrue(r.responsesAfterStop() > 0, r::table);
    }

    private static void assertHttpClientsTold(StopResult r) {
        assertEquals(0, r.count(StopOutcome.RESET), r::table);
        assertEquals(0, r.count(StopOutcome.TRUNCATED), r::table);
        assertEquals(0, r.count(StopOutcome.BAD_RESPONSE), r::table);
        assertEquals(0, r.count(StopOutcome.STILL_OPEN), r::table);
        assertEquals(0, r.count(StopOutcome.ERROR), r::table);
        assertTrue(r.count(StopOutcome.ANSWERED_CLOSE) >= LOOPING * 9 / 10,
                () -> "fewer than 90% ended with Connection: close\n" + r.table());
    }

    /**
     * Starts {@code command} on an ephemeral port, opens the quiet connections, runs the probe's loops and
     * sends SIGTERM; checks the quiet connections' ends and the process's exit; returns the probe's result.
     */
    private StopResult stopUnderLoad(StopProbe.Protocol protocol, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(List.of("--workers", "2", "--io-threads", "2"));
        child = ChildCommand.start(args.toArray(String[]::new));
        InetSocketAddress address = child.address();
        Process process = child.process();
        AtomicLong signalled = new AtomicLong();
        List<CompletableFuture<Long>> quietEnds = new ArrayList<>();
        List<Socket> quiet = new ArrayList<>();
        for (int i = 0; i < QUIET; i++) {
            Socket s = new Socket();
            s.connect(address, 5000);
            s.setSoTimeout(30_000);
            quiet.add(s);
            quietEnds.add(CompletableFuture.supplyAsync(() -> endOfStreamNanos(s)));
        }
        // The loops run 2 s before the stop: the quiet connections have been quiet for longer than the
        // default 1 s drain window by then.
        StopResult r = StopProbe.builder(address).protocol(protocol).connections(LOOPING)
                .stopAfter(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(20)).watchExit(process.toHandle())
                .build().run(() -> {
                    signalled.set(System.nanoTime());
                    process.destroy();
                });
        assertTrue(r.allConnected(), r::table);
        assertEquals(0, r.endedBeforeStop(), r::table);
        for (CompletableFuture<Long> end : quietEnds) {
            long ms = TimeUnit.NANOSECONDS.toMillis(end.get(20, TimeUnit.SECONDS) - signalled.get());
            assertTrue(ms < 100, "a quiet connection ended " + ms + " ms after the signal\n" + child.log());
        }
        for (Socket s : quiet) {
            s.close();
        }
        assertTrue(process.waitFor(20, TimeUnit.SECONDS), "the server did not exit after SIGTERM\n" + child.log());
        assertEquals(143, process.exitValue(), child.log());
        String log = child.log();
        assertTrue(!log.contains("Exception") && !log.contains("WARN"), "the server's log:\n" + log);
        return r;
    }

    /** Blocks until the server ends the stream; a reset instead fails. */
    private static long endOfStreamNanos(Socket s) {
        try {
            InputStream in = s.getInputStream();
            int b = in.read();
            long at = System.nanoTime();
            assertEquals(-1, b, "a quiet connection got a byte");
            return at;
        } catch (IOException e) {
            throw new UncheckedIOException("a quiet connection did not end cleanly", e);
        }
    }
}
