package dev.serverframework.core.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} for tests, on 127.0.0.1 and a free ephemeral port, without persistence. It can
 * be stopped (or killed) and restarted on the same port, to test what clients do when Redis goes away and
 * comes back. Every wait has a deadline. Not thread-safe: one test thread drives it.
 *
 * <pre>{@code
 * try (RedisServerProcess redis = RedisServerProcess.start()) {
 *     PubSub pubSub = PubSub.over(RedisEngine.create(redis.uri()));
 *     ...
 *     redis.stop();
 *     redis.restart();
 * }
 * }</pre>
 *
 * Set {@code -Dserverframework.redisServer=/path/to/redis-server} to use another binary.
 */
public final class RedisServerProcess implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(10);

    private final int port;
    private final Path log;
    private Process process;

    private RedisServerProcess(int port) throws IOException {
        this.port = port;
        this.log = Files.createTempFile("redis-server-" + port + "-", ".log");
    }

    /** Starts redis-server on a free port and waits until it answers PING. */
    public static RedisServerProcess start() throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            // Another process may take the free port between our probe and redis-server's bind: try again.
            RedisServerProcess redis = new RedisServerProcess(freePort());
            try {
                redis.restart();
                return redis;
            } catch (IOException e) {
                redis.close();
                last = e;
            }
        }
        throw last;
    }

    /**
     * Skips the calling test (class) when there is no redis-server: .ci/run installs Debian's, so CI always
     * runs the Redis tests; a bare {@code mvn verify} elsewhere skips them and says why.
     */
    public static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(binary())),
                binary() + " is missing: apt-get install redis-server (.ci/run does)");
    }

    private static String binary() {
        return System.getProperty("serverframework.redisServer", "/usr/bin/redis-server");
    }

    /** A redis-server for {@code port}, not started yet: for "Redis is down when the client starts". */
    public static RedisServerProcess notStarted(int port) throws IOException {
        return new RedisServerProcess(port);
    }

    /** A port nothing listens on now. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Redis's count of subscriptions to {@code channel} ({@code PUBSUB NUMSUB}), asked over a raw socket. */
    public int subscribers(String channel) {
        try (RawClient c = new RawClient(port)) {
            c.send("PUBSUB NUMSUB " + channel + "\r\n");
            for (int i = 0; i < 3; i++) {
                c.readLine(); // *2, then the channel's name as a bulk string: its length, its bytes
            }
            return Integer.parseInt(c.readLine().substring(1));
        }
    }

    /** Whether the process is running. */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Starts redis-server on this port (again, after {@link #stop()}), and waits until it answers PING.
     *
     * @throws IOException if it does not answer within 10 s, or exits
     */
    public void restart() throws IOException {
        if (isRunning()) {
            throw new IllegalStateException("redis-server on port " + port + " is running");
        }
        process = new ProcessBuilder(List.of(binary(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + READY.toNanos();
        while (!ping()) {
            if (!process.isAlive()) {
                throw new IOException("redis-server on port " + port + " exited with " + process.exitValue()
                        + "; its output: " + tail());
            }
            if (System.nanoTime() - deadline > 0) {
                kill();
                throw new IOException("redis-server on port " + port + " did not answer PING within "
                        + READY.toSeconds() + " s; its output: " + tail());
            }
            try {
                Thread.sleep(10); // polling a condition with a deadline, not synchronising on a guess
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    /** Whether redis-server answers PING now (one attempt, 1 s at most). */
    public boolean ping() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] reply = new byte[7];
            int n = 0;
            while (n < reply.length) {
                int r = in.read(reply, n, reply.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            return new String(reply, 0, n, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops redis-server (SIGTERM, then SIGKILL after 5 s) and waits until it has exited. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                kill();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        }
    }

    /** Kills redis-server (SIGKILL) and waits up to 5 s until it has exited. */
    public void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server on port " + port + " did not exit after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String tail() {
        try {
            String all = Files.readString(log);
            return all.length() > 2000 ? all.substring(all.length() - 2000) : all;
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Stops redis-server and removes its log. */
    @Override
    public void close() {
        stop();
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // a temp file left behind
        }
    }
}
