package dev.serverframework.examples.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server under test in a child JVM ({@code --server httpd}): same jar and Java, its own process, so its
 * CPU and heap are not the generator's. Its output goes to {@code server.log} in the report directory.
 */
final class ChildServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChildServer.class);

    private final Process process;
    private final int port;
    private final List<String> command;

    private ChildServer(Process process, int port, List<String> command) {
        this.process = process;
        this.port = port;
        this.command = List.copyOf(command);
    }

    /** The child's command line, for the report. */
    List<String> command() {
        return command;
    }

    int port() {
        return port;
    }

    /** The child's process id, for its resident memory, its heap and its CPU time. */
    long pid() {
        return process.pid();
    }

    /**
     * Starts {@code httpd} on a free loopback port with {@code options} and waits until it accepts
     * connections (at most {@code startTimeout}).
     */
    static ChildServer startHttpd(List<String> options, Path outDir, Duration startTimeout)
            throws IOException, InterruptedException {
        int port = options.stream().anyMatch(o -> o.startsWith("--port")) ? -1 : freePort();
        List<String> arguments = new ArrayList<>();
        arguments.add("httpd");
        if (port > 0) {
            arguments.add("--port=" + port);
            arguments.add("--bind=127.0.0.1");
        } else {
            port = Integer.parseInt(options.stream().filter(o -> o.startsWith("--port")).findFirst().orElseThrow()
                    .replaceAll("\\D", ""));
        }
        arguments.addAll(options);
        List<String> cmd = ChildJvm.command(List.of(), arguments);
        Files.createDirectories(outDir);
        Path logFile = outDir.resolve("server.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        ChildServer child = new ChildServer(p, port, cmd);
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the httpd child exited with status " + p.exitValue()
                        + " before accepting connections; see " + logFile);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    child.close();
                    throw new IllegalStateException("the httpd child did not accept connections on port " + port
                            + " within " + startTimeout.toSeconds() + " s; see " + logFile);
                }
                // Bounded wait before the next attempt, on the child's exit rather than a sleep.
                p.waitFor(100, TimeUnit.MILLISECONDS);
            }
        }
        log.info("httpd child (pid {}) is up on port {}; its output is in {}", p.pid(), port, logFile);
        return child;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Stops the child: SIGTERM (its shutdown hook closes the server), then a kill after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                log.warn("httpd child did not stop within 10 s; killing it");
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
