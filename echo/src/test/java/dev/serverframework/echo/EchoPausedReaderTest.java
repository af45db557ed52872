package dev.serverframework.echo;

import dev.serverframework.core.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A client that writes a lot to the echo server and pauses reading for 30 seconds in the middle, with
 * the server's default settings (idle timeout 5 s, write-stall timeout 60 s): the server stops reading
 * from it, its output waits, and the connection is neither idle nor cut. When the client reads again it
 * gets every byte back, unchanged. (It used to be closed by the idle timeout, with 2 MiB of the echo.)
 */
class EchoPausedReaderTest {
    private static final int MiB = 1024 * 1024;
    private static final long PAUSE_MILLIS = 30_000;

    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    @Test
    void aClientThatPausesReadingForThirtySecondsGetsEveryByteBack() throws Exception {
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .protocol(new EchoProtocol()).build().start();
        byte[] data = new byte[64 * MiB];
        new Random(5).nextBytes(data);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            s.setSoTimeout((int) PAUSE_MILLIS + 20_000);
            OutputStream out = s.getOutputStream();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    out.write(data);
                    s.shutdownOutput();
                } catch (Exception e) {
                    throw new AssertionError("writing to the echo server failed", e);
                }
            });
            InputStream in = s.getInputStream();
            MessageDigest echoed = MessageDigest.getInstance("SHA-256");
            long read = copy(in, echoed, 4 * MiB);
            assertEquals(4 * MiB, read, "the echo began");

            // The pause: nothing reads for 30 s. The writer blocks once every buffer on the way is full.
            long pauseEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PAUSE_MILLIS);
            while (System.nanoTime() < pauseEnd) {
                LockSupport.parkNanos(pauseEnd - System.nanoTime());
            }
            assertFalse(writer.isCompletedExceptionally(), "the writer failed during the pause");

            read += copy(in, echoed, Long.MAX_VALUE);
            writer.get(30, TimeUnit.SECONDS);
            assertEquals(data.length, read, "bytes echoed");
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), echoed.digest(), "the echo differs");
        }
        assertEquals(0, server.statistics().idleTimeouts(), "the paused connection was never idle");
        assertEquals(0, server.statistics().writeStalls());
    }

    /** Reads up to {@code limit} bytes (or to the end of stream) into the digest; returns how many. */
    private static long copy(InputStream in, MessageDigest digest, long limit) throws Exception {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        while (total < limit) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, limit - total));
            if (n < 0) {
                break;
            }
            digest.update(buf, 0, n);
            total += n;
        }
        return total;
    }
}
