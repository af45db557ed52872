package dev.serverframework.examples.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One child load process of {@code bench connections} or {@code bench broadcast}: a JVM running a hidden
 * worker command ({@link ConnectionsWorker}, {@link BroadcastWorker}) that holds its share of the
 * connections and obeys one-line commands on its stdin, answering each with one line on its stdout. Its
 * stderr goes to {@code worker-N.log}. Used by the thread that runs the benchmark; a daemon thread of its
 * own reads the answers.
 */
final class LoadProcess implements AutoCloseable {
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final int index;
    private final int count;

    private LoadProcess(Process process, int index, int count) {
        this.process = process;
        this.index = index;
        this.count = count;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // The process went away; expect() reports it.
            }
            lines.add("EOF");
        }, "bench-worker-" + index + "-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts load process {@code index}, which opens {@code n} connections (numbered from {@code first}, for
     * their source addresses) to {@code target} and requests {@code path} on each.
     */
    static LoadProcess start(int index, int first, int n, int sources, String target, String path,
                             Duration timeout, Path out) throws IOException {
        return start(index, n, List.of("connections-worker", "--target=" + target, "--path=" + path,
                "--count=" + n, "--first-index=" + first, "--source-addresses=" + sources,
                "--timeout-ms=" + timeout.toMillis()), out);
    }

    /**
     * Starts load process {@code index}, holding {@code n} connections, as {@code bench <worker>}: the first
     * of {@code worker} is the hidden worker command's name, the rest its options.
     */
    static LoadProcess start(int index, int n, List<String> worker, Path out) throws IOException {
        List<String> arguments = new ArrayList<>();
        arguments.add("bench");
        arguments.addAll(worker);
        List<String> cmd = ChildJvm.command(List.of("-Xmx256m", "-XX:+UseSerialGC"), arguments);
        Process p = new ProcessBuilder(cmd).redirectError(out.resolve("worker-" + index + ".log").toFile()).start();
        return new LoadProcess(p, index, n);
    }

    /** How many connections this process holds. */
    int count() {
        return count;
    }

    /** The process's id, e.g. to read its CPU time. */
    long pid() {
        return process.pid();
    }

    /** Sends one command line. */
    void send(String command) throws IOException {
        stdin.write(command + "\n");
        stdin.flush();
    }

    /**
     * The next answer, split into words; it must start with {@code word} and come within {@code ms}.
     *
     * @throws IllegalStateException when it does not, naming the process and its log
     */
    String[] expect(String word, long ms) throws InterruptedException {
        String line = lines.poll(ms, TimeUnit.MILLISECONDS);
        if (line == null) {
            throw new IllegalStateException("load process " + index + " did not answer " + word + " within "
                    + ms + " ms");
        }
        if (!line.startsWith(word)) {
            throw new IllegalStateException("load process " + index + " said '" + line + "' instead of "
                    + word + " (exit " + (process.isAlive() ? "-" : process.exitValue())
                    + "; see worker-" + index + ".log)");
        }
        return line.split(" ");
    }

    /** Tells the process to quit and waits for it; kills it when it does not go within 10 s. */
    @Override
    public void close() {
        try {
            send("QUIT");
            stdin.close();
        } catch (IOException ignored) {
            // Already gone.
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
