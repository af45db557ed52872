package dev.serverframework.examples.bench;

import dev.serverframework.examples.OptionChecks;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench stop}: the graceful-stop client. N keep-alive connections in closed loops; after a delay the
 * server is asked to stop (SIGTERM to a pid, or a command); each connection's ending is classified and counted.
 * Exit status: 0 when measured (whatever the outcomes), 3 when not every connection could be opened (nothing
 * was stopped), 4 when the stop action failed.
 */
@Command(name = "stop", mixinStandardHelpOptions = true,
        description = {"Graceful-stop probe: N keep-alive connections in closed loops, then the server is asked to "
                + "stop; says how each connection ended (answered with Connection: close, closed after an answer, "
                + "closed unanswered, truncated, reset, bad response, still open).",
                "Example: bench stop --target 127.0.0.1:8080 --signal-pid 1234"})
public final class StopProbeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "The server.")
    String target;

    @Option(names = "--protocol", defaultValue = "http",
            description = "http (GET in a closed loop) or resp (PING) (default: ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = {"-c", "--connections"}, defaultValue = "64",
            description = "Keep-alive connections (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--stop-after", defaultValue = "3s",
            description = "How long the loops run before the stop, e.g. 3s, 500ms (default: ${DEFAULT-VALUE}).")
    String stopAfter;

    @Option(names = "--deadline", defaultValue = "30s",
            description = "After the stop, how long to wait for connections to end; those still open are "
                    + "reported as such (default: ${DEFAULT-VALUE}).")
    String deadline;

    @ArgGroup(exclusive = true, multiplicity = "1")
    StopBy stopBy;

    /** Exactly one way to stop the server. */
    static final class StopBy {
        @Option(names = "--signal-pid", paramLabel = "PID",
                description = "Send SIGTERM to this process, and time its exit.")
        Long pid;

        @Option(names = "--stop-command", paramLabel = "CMD",
                description = "Run this through sh -c, e.g. 'nginx -s quit -c /tmp/nginx.conf'.")
        String command;
    }

    @Option(names = "--path", defaultValue = "/", description = "HTTP: the path requested (default: ${DEFAULT-VALUE}).")
    String path;

    @Option(names = "--expect-status", defaultValue = "200",
            description = "HTTP: the status every response must have; 0 accepts any (default: ${DEFAULT-VALUE}).")
    int expectStatus;

    @Option(names = "--expect-body", description = "HTTP: the exact body every response must have.")
    String expectBody;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON to this file.")
    Path json;

    /** Runs the probe and prints the table; exit status as the class says. */
    @Override
    public Integer call() throws Exception {
        StopResult r = execute();
        PrintWriter out = spec.commandLine().getOut();
        out.print(r.table());
        if (json != null) {
            out.println("JSON: " + json.toAbsolutePath());
        }
        out.flush();
        if (!r.allConnected()) {
            return 3;
        }
        return r.stopError() == null ? 0 : 4;
    }

    /** The option that sets each {@link StopProbe.Builder} setting, for {@link OptionChecks}. */
    static final Map<String, String> OPTIONS = Map.of("connections", "--connections", "stopAfter", "--stop-after",
            "deadline", "--deadline", "path", "--path", "expectStatus", "--expect-status");

    /** Parses the settings, runs the probe, writes the JSON file when asked; returns the result. */
    public StopResult execute() throws InterruptedException, IOException {
        Duration after = OptionValues.duration(stopAfter, "--stop-after");
        Duration until = OptionValues.duration(deadline, "--deadline");
        StopProbe.Builder b = StopProbe.builder(OptionValues.hostPort(target))
                .protocol(StopProbe.Protocol.parse(protocol));
        OptionChecks.check(spec, OPTIONS, () -> b.connections(connections)
                .stopAfter(after)
                .deadline(until)
                .path(path)
                .expectStatus(expectStatus)
                .expectBody(expectBody));
        Runnable stop;
        if (stopBy.pid != null) {
            long pid = stopBy.pid;
            ProcessHandle process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive).orElseThrow(() ->
                    new ParameterException(spec.commandLine(), "--signal-pid: no running process with pid " + pid));
            if (pid == ProcessHandle.current().pid()) {
                throw new ParameterException(spec.commandLine(), "--signal-pid: that is this probe's own pid");
            }
            b.stopLabel("SIGTERM to pid " + pid).watchExit(process);
            stop = () -> {
                // ProcessHandle.destroy() is SIGTERM on Linux (destroyForcibly would be SIGKILL).
                if (!process.destroy()) {
                    throw new IllegalStateException("could not send SIGTERM to pid " + pid);
                }
            };
        } else {
            String cmd = stopBy.command;
            b.stopLabel("sh -c '" + cmd + "'");
            stop = () -> runCommand(cmd, until);
        }
        StopResult r = b.build().run(stop);
        if (json != null) {
            Path parent = json.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(json, r.toJson(), StandardCharsets.UTF_8);
        }
        return r;
    }

    /**
     * Runs {@code cmd} through {@code sh -c}, waiting for it at most {@code limit}; throws with its exit status
     * and output when it fails. Its output goes to a file, not a pipe: a command that leaves a daemon holding
     * the pipe open would otherwise keep us reading forever.
     */
    static void runCommand(String cmd, Duration limit) {
        File log = null;
        try {
            log = File.createTempFile("stop-command", ".log");
            Process p = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true)
                    .redirectOutput(log).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("the stop command had not finished after " + limit.toMillis()
                        + " ms: " + cmd);
            }
            if (p.exitValue() != 0) {
                String output = Files.readString(log.toPath(), StandardCharsets.UTF_8).strip();
                throw new IllegalStateException("the stop command exited with status " + p.exitValue()
                        + (output.isEmpty() ? "" : ": " + output));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run the stop command: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running the stop command", e);
        } finally {
            if (log != null && !log.delete()) {
                log.deleteOnExit();
            }
        }
    }
}
