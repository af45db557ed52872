package dev.serverframework.examples;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An example command ({@code httpd}, {@code kv}, ...) run as a user runs it: in a JVM of its own, on an
 * ephemeral loopback port, its output in a file. {@link #close()} kills what is still running.
 */
final class ChildCommand implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final Path output;
    private final InetSocketAddress address;

    private ChildCommand(Process process, Path output, InetSocketAddress address) {
        this.process = process;
        this.output = output;
        this.address = address;
    }

    /** Starts {@code Main <args> --port 0 --bind 127.0.0.1} and waits until it says where it listens. */
    static ChildCommand start(String... args) throws IOException, InterruptedException {
        return startOnPort(0, args);
    }

    /** Starts {@code Main <args> --port PORT --bind 127.0.0.1} and waits until it says where it listens. */
    static ChildCommand startOnPort(int port, String... args) throws IOException, InterruptedException {
        Path output = Files.createTempFile("example-command", ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && p.isAlive()) {
            Matcher m = LISTENING.matcher(Files.readString(output, StandardCharsets.UTF_8));
            if (m.find()) {
                return new ChildCommand(p, output, new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1))));
            }
            p.waitFor(50, TimeUnit.MILLISECONDS); // a bounded wait on the child, not a sleep
        }
        String log = Files.readString(output, StandardCharsets.UTF_8);
        p.destroyForcibly();
        Files.deleteIfExists(output);
        throw new AssertionError("the command did not start listening:\n" + log);
    }

    InetSocketAddress address() {
        return address;
    }

    int port() {
        return address.getPort();
    }

    Process process() {
        return process;
    }

    /** What the command printed so far. */
    String log() {
        try {
            return Files.readString(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        Files.deleteIfExists(output);
    }
}
