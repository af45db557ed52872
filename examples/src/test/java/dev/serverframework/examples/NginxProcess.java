package dev.serverframework.examples;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's nginx, run in the foreground with a configuration of the repository (examples/cluster/nginx.conf)
 * whose {@code @NAME@} placeholders the test fills in, in a directory of its own for pid, logs and
 * temporary files. {@link #close()} stops it.
 */
final class NginxProcess implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/sbin/nginx");
    static final Path STREAM_MODULE = Path.of("/usr/lib/nginx/modules/ngx_stream_module.so");

    private final Process process;
    private final Path dir;

    private NginxProcess(Process process, Path dir) {
        this.process = process;
        this.dir = dir;
    }

    /** Skips the calling tests when nginx or its stream module is missing (.ci/run installs both). */
    static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isExecutable(BINARY) && Files.exists(STREAM_MODULE),
                "nginx or its stream module is missing: apt-get install nginx-light libnginx-mod-stream (.ci/run does)");
    }

    /**
     * Starts nginx with {@code template} (a path relative to the repository), its placeholders replaced, and
     * waits until every port in {@code ports} accepts connections.
     */
    static NginxProcess start(String template, Map<String, String> values, List<Integer> ports)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("nginx");
        String conf = Files.readString(repository().resolve(template), StandardCharsets.UTF_8)
                .replace("@RUN_DIR@", dir.toString());
        for (Map.Entry<String, String> v : values.entrySet()) {
            conf = conf.replace("@" + v.getKey() + "@", v.getValue());
        }
        java.util.regex.Matcher left = java.util.regex.Pattern.compile("@[A-Z_0-9]+@").matcher(conf);
        if (left.find()) {
            throw new IllegalArgumentException("placeholder " + left.group() + " of " + template + " has no value");
        }
        Path confFile = dir.resolve("nginx.conf");
        Files.writeString(confFile, conf, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(BINARY.toString(), "-p", dir.toString(), "-c", confFile.toString(),
                "-g", "daemon off;").redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile())
                .start();
        NginxProcess nginx = new NginxProcess(p, dir);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int port : ports) {
            while (!accepts(port)) {
                if (!p.isAlive() || System.nanoTime() - deadline > 0) {
                    String log = nginx.log();
                    nginx.close();
                    throw new AssertionError("nginx did not listen on " + port + ":\n" + log);
                }
                p.waitFor(20, TimeUnit.MILLISECONDS); // a bounded wait on the process, not a sleep
            }
        }
        return nginx;
    }

    /** The repository's root: the examples module's parent. */
    private static Path repository() {
        Path here = Path.of("").toAbsolutePath();
        return Files.exists(here.resolve("cluster")) ? here.getParent() : here;
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** What nginx wrote to its error log and stdout. */
    String log() {
        StringBuilder b = new StringBuilder();
        for (String f : List.of("error.log", "stdout.log")) {
            try {
                b.append(Files.readString(dir.resolve(f), StandardCharsets.UTF_8));
            } catch (IOException e) {
                b.append("(no ").append(f).append(")\n");
            }
        }
        return b.toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: nginx's fast shutdown
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
