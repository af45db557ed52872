package dev.serverframework.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line's contract with its user: exit status 0 on success, 2 on a usage error (named after the
 * option typed, before anything starts), 1 on a runtime error (one "error:" line, nothing left running);
 * {@code help}, {@code -V} and {@code jmh --help}.
 */
class CliTest {
    /** What one in-process run printed and returned. */
    record Run(int status, String out, String err) {
        String all() {
            return out + err;
        }
    }

    /** Runs {@code args} through {@link Main#commandLine()}, as {@code main} does, with captured writers. */
    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    /** Runs {@code Main args} in a JVM of its own to its end: its real exit status and all it printed. */
    static Run runChild(String... args) throws IOException, InterruptedException {
        Path output = Files.createTempFile("cli", ".log");
        try {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("still running: " + Files.readString(output));
            }
            return new Run(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8), "");
        } finally {
            Files.deleteIfExists(output);
        }
    }

    @Test
    void versionIsTheProjectVersionOnEveryCommand() {
        String version = Version.current();
        assertTrue(version.matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), version);
        for (String[] args : List.of(new String[] {"-V"}, new String[] {"--version"}, new String[] {"httpd", "-V"},
                new String[] {"kv", "--version"}, new String[] {"bench", "-V"})) {
            Run r = run(args);
            assertEquals(0, r.status(), r.all());
            assertEquals("server-framework-examples " + version, r.out().strip(), String.join(" ", args));
        }
    }

    @Test
    void helpListsTheCommandsAndHelpOfACommandIsItsUsage() {
        Run all = run("help");
        assertEquals(0, all.status(), all.all());
        assertTrue(all.out().contains("Commands:") && all.out().contains("httpd") && all.out().contains("kv"), all.out());
        Run kv = run("help", "kv");
        assertEquals(0, kv.status(), kv.all());
        assertTrue(kv.out().contains("--max-bulk-length"), kv.out());
        assertEquals(0, run("httpd", "--help").status());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "-h"})
    void jmhHelpIsOurUsageThenJmhsOptions(String flag) throws Exception {
        Run r = runChild("jmh", flag);
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("Usage: server-framework-examples jmh"), r.out());
        assertTrue(r.out().contains("-bm <mode>"), "JMH's own option list: " + r.out());
        assertFalse(r.out().contains("not a recognized option"), r.out());
    }

    /** {@code help jmh} is the same usage as {@code jmh --help}: ours, then JMH's own options. */
    @Test
    void helpJmhListsJmhsOptionsToo() {
        Run help = run("help", "jmh");
        assertEquals(0, help.status(), help.all());
        assertTrue(help.out().contains("Usage: server-framework-examples jmh"), help.out());
        assertTrue(help.out().contains("-bm <mode>"), "JMH's own option list: " + help.out());
        Run flag = run("jmh", "--help");
        assertEquals(0, flag.status(), flag.all());
        assertEquals(help.out(), flag.out());
    }

    /** JMH's message names what it parsed ('oo' of option f); the error adds what the user typed. */
    @Test
    void aBadJmhOptionSaysWhatWasTyped() {
        Run r = run("jmh", "-foo");
        assertEquals(2, r.status(), r.all());
        assertTrue(r.err().startsWith("error: JMH: ") && r.err().contains("(typed: -foo)"), r.err());
        Run apart = run("jmh", "-f", "x");
        assertEquals(2, apart.status(), apart.all());
        assertTrue(apart.err().contains("(typed: -f x)"), apart.err());
    }

    /** {@code bench} alone is a usage error like the top level without a command, naming the benchmarks. */
    @Test
    void benchWithoutABenchmarkIsAUsageError() {
        Run r = run("bench");
        assertEquals(2, r.status(), r.all());
        assertTrue(r.err().startsWith("error: a benchmark is required: http, connections, stop, broadcast, pubsub"),
                r.err());
        assertTrue(r.err().contains("Run 'server-framework-examples bench --help' for its options."), r.err());
    }

    @Test
    void usageErrorsExitWith2InARealProcess() throws Exception {
        for (String[] args : List.of(new String[0], new String[] {"nosuchcommand"}, new String[] {"help", "nosuch"},
                new String[] {"jmh", "-nosuchjmhoption"}, new String[] {"bench", "http", "-d", "0s"},
                new String[] {"bench"},
                new String[] {"httpd", "--workers", "0", "--port", "0", "--bind", "127.0.0.1"})) {
            Run r = runChild(args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.out());
            assertTrue(r.out().startsWith("error: "), r.out());
            assertFalse(r.out().contains("listening") || r.out().contains("\tat "), r.out());
        }
    }

    /**
     * The bench commands' own argument checks are usage errors (2) naming the option, in-process as in
     * {@code main}; none of these reaches the network.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "bench http --target ftp://127.0.0.1:1/                  | --target must be http://host[:port]/path, got ftp://127.0.0.1:1/",
            "bench http --target http://127.0.0.1:1/ --modes fast    | --modes must be keepalive or close, got fast",
            "bench http --target http://127.0.0.1:1/ -c 0            | --connections must be positive, got 0",
            "bench http --target http://127.0.0.1:1/ --warmup soon   | --warmup must be like 10s, 500ms or 1m, got soon",
            "bench http --target http://127.0.0.1:1/ --server-pid 2147483647 | --server-pid 2147483647: no such process",
            "bench http --target http://127.0.0.1:1/ --compare /no/such/results.json | cannot read /no/such/results.json",
            "bench connections --count 10 --target nohost                       | --target must be HOST:PORT, got nohost",
            "bench connections --count 10 --target 127.0.0.1:1 --gc            | --gc needs --server-pid",
            "bench broadcast --count 10 --target 127.0.0.1:1 --rate 0           | --rate must be more than 0, got 0.0",
            "bench broadcast --count 10 --target 127.0.0.1:1 --threads 0        | --threads must be at least 1, got 0",
            "bench broadcast --count 10 --server nginx                          | --server knows httpd only, got nginx",
            "bench stop --target 127.0.0.1:1 --stop-command true -c 0 | --connections must be between 1 and 100000, got 0",
            "bench stop --target 127.0.0.1:1 --stop-command true --path x | --path must start with /",
            "bench stop --target 127.0.0.1:1 --stop-command true --expect-status 100 | --expect-status must be 0 or 200..999, got 100",
            "bench stop --target 127.0.0.1:1 --stop-command true --protocol smtp | --protocol must be http or resp, got smtp",
            "bench stop --target 127.0.0.1:1 --signal-pid 2147483647 | --signal-pid: no running process with pid 2147483647",
    })
    void benchArgumentChecksAreUsageErrorsNamingTheOption(String args, String message) {
        Run r = run(args.split(" +"));
        assertEquals(2, r.status(), r.all());
        assertTrue(r.err().startsWith("error: " + message), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    /**
     * Only a {@code ParameterException} (or a parser's {@link UsageException}) is a usage error: an
     * {@link IllegalArgumentException} from inside a command's work ("not a histogram", an open-file limit)
     * is a runtime fault, status 1.
     */
    @Test
    void onlyUsageExceptionsExitWith2AndAnyOtherIllegalArgumentExceptionExits1() {
        for (var c : List.<java.util.Map.Entry<RuntimeException, Integer>>of(
                java.util.Map.entry(new IllegalArgumentException("not a histogram: xyz"), 1),
                java.util.Map.entry(new IllegalStateException("port in use"), 1),
                java.util.Map.entry(new UsageException("--duration must be like 10s, 500ms or 1m, got x"), 2))) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            picocli.CommandLine cli = Main.commandLine().addSubcommand("fails", new Failing(c.getKey()))
                    .setOut(new PrintWriter(out)).setErr(new PrintWriter(err)); // after: for the new one too
            int status = cli.execute("fails");
            assertEquals(c.getValue(), status, err.toString());
            assertTrue(err.toString().startsWith("error: " + c.getKey().getMessage()), err.toString());
            assertEquals(c.getValue() == 2, err.toString().contains("--help' for its options"), err.toString());
        }
    }

    @picocli.CommandLine.Command(name = "fails")
    static final class Failing implements java.util.concurrent.Callable<Integer> {
        private final RuntimeException failure;

        Failing(RuntimeException failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() {
            throw failure;
        }
    }

    /** Each bad value is refused by the framework's own check, reported under the option's name, before any start. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "httpd --idle-timeout -1          | --idle-timeout must be between 0 ms and 24 h, got -1 s",
            "httpd --workers 0                | --workers must be between 1 and 1024, got 0",
            "httpd --io-threads 2000          | --io-threads must be between 1 and 1024, got 2000",
            "httpd --listeners 65             | --listeners must be between 1 and 64, got 65",
            "httpd --max-connections 0        | --max-connections must be between 1 and 10000000, got 0",
            "httpd --linger-timeout 60001     | --linger-timeout must be between 0 ms and 60 s, got 60001 ms",
            "httpd --write-stall-timeout -5   | --write-stall-timeout must be between",
            "httpd --metrics-port 70000       | --metrics-port must be between 0 and 65535, got 70000",
            "httpd --mode fast                | --mode must be worker or io, got fast",
            "httpd --static /no/such/dir      | --static /no/such/dir is not a directory",
            "echo --port 70000                | --port must be between 0 and 65535, got 70000",
            "kv --max-bulk-length 0           | --max-bulk-length must be at least 1, got 0",
            "kv --max-total-query-buffer 0    | --max-total-query-buffer must be at least 1, got 0",
            "chat --max-line 0                | --max-line must be at least 1, got 0",
            "chat --history -1                | --history must be between 0 and 100000, got -1",
            "chat --max-pending 0             | --max-pending must be at least 1, got 0",
            "chat --away-grace 7200           | --away-grace must be between 0 ms and 1 h, got 2 h",
            "chat --chat-idle-timeout -1      | --chat-idle-timeout must not be negative, got -1 s",
            "chat --http-port 70000           | --http-port must be between 0 and 65535, got 70000",
            "chat --room-channel ''           | --room-channel must not be empty",
            "chat --tls-cert /no/c.pem --tls-key /no/k.pem --http-port 70000 | --http-port must be between 0 and 65535",
            "chat --tls-cert /no/c.pem --tls-key /no/k.pem --away-grace -1   | --away-grace must be between",
    })
    void aBadValueIsAUsageErrorNamingTheOption(String args, String message) {
        List<String> all = new ArrayList<>(List.of(args.split(" +")));
        all.replaceAll(a -> a.equals("''") ? "" : a);
        if (!all.contains("--port")) {
            all.addAll(List.of("--port", "0"));
        }
        all.addAll(List.of("--bind", "127.0.0.1"));
        Run r = run(all.toArray(String[]::new));
        assertEquals(2, r.status(), r.all());
        assertTrue(r.err().startsWith("error: " + message), r.err());
        assertFalse(r.all().contains("listening"), "nothing started: " + r.all());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "httpd --no-metrics --metrics-port 0          | --no-metrics and --metrics-port cannot be used together",
            "echo --transport nio --listeners 2           | --transport nio and --listeners 2 cannot be used together",
            "kv --transport nio --reuse-port              | --transport nio and --reuse-port cannot be used together",
            "echo --tls-cert cert.pem                     | --tls-cert needs --tls-key",
            "kv --tls-key key.pem                         | --tls-key needs --tls-cert",
            "chat --tls-self-signed --tls-cert cert.pem --tls-key key.pem | --tls-self-signed and --tls-cert cannot be used together",
            "httpd --tls-self-signed --tls-key key.pem    | --tls-self-signed and --tls-key cannot be used together",
            "httpd --port 7101 --metrics-port 7101        | --port 7101 and --metrics-port 7101 cannot be used together",
            "chat --port 7102 --http-port 7102            | --port 7102 and --http-port 7102 cannot be used together",
    })
    void conflictingOptionsAreAUsageError(String args, String message) {
        List<String> all = new ArrayList<>(List.of(args.split(" +")));
        if (!all.contains("--port")) {
            all.addAll(List.of("--port", "0"));
        }
        all.addAll(List.of("--bind", "127.0.0.1"));
        Run r = run(all.toArray(String[]::new));
        assertEquals(2, r.status(), r.all());
        assertTrue(r.err().startsWith("error: " + message), r.err());
        assertFalse(r.all().contains("listening"), "nothing started: " + r.all());
    }

    /**
     * A taken metrics port fails before any server opens its port (the metrics server starts first): one
     * error line, exit 1, and no server ever listened, so none logs that it listens or stopped; no stack
     * trace, no "Signal received" from a shutdown hook no signal triggered.
     */
    @Test
    void aTakenMetricsPortFailsBeforeAnyServerListensAndExits1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Run r = runChild("httpd", "--port", "0", "--bind", "127.0.0.1", "--metrics-port",
                    Integer.toString(taken.getLocalPort()));
            assertEquals(1, r.status(), r.out());
            List<String> errors = r.out().lines().filter(l -> l.startsWith("error: ")).toList();
            assertEquals(1, errors.size(), r.out());
            assertTrue(errors.get(0).startsWith("error: metrics server on --metrics-port " + taken.getLocalPort()
                    + ": cannot bind 127.0.0.1:" + taken.getLocalPort()), r.out());
            assertFalse(r.out().toLowerCase(java.util.Locale.ROOT).contains("listening")
                    || r.out().contains("stopped"), "no server opened its port: " + r.out());
            assertFalse(r.out().contains("Signal received") || r.out().contains("\tat ") || r.out().contains("Exception"),
                    r.out());
        }
    }

    /**
     * A server that cannot bind stops the metrics server that started before it: the metrics port is free
     * again when the command returns 1 (in-process, so that the port's release is the command's doing, not
     * the process's end).
     */
    @Test
    void aServerThatCannotBindStopsTheMetricsServer() throws Exception {
        int metricsPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            metricsPort = probe.getLocalPort(); // free now; the command binds it next
        }
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Run r = run("echo", "--port", Integer.toString(taken.getLocalPort()), "--bind", "127.0.0.1",
                    "--metrics-port", Integer.toString(metricsPort), "--io-threads", "1", "--workers", "1");
            assertEquals(1, r.status(), r.all());
            assertTrue(r.err().startsWith("error: "), r.err());
        }
        try (ServerSocket again = new ServerSocket(metricsPort, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(metricsPort, again.getLocalPort(), "the metrics server released its port");
        }
    }

    /** kv says which pub/sub it uses once it started, like chat: not when it failed to. */
    @Test
    void kvPrintsItsPubSubOnlyOnceStarted() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Run r = runChild("kv", "--port", Integer.toString(taken.getLocalPort()), "--bind", "127.0.0.1");
            assertEquals(1, r.status(), r.out());
            assertTrue(r.out().contains("error: "), r.out());
            assertFalse(r.out().contains("pub/sub"), r.out());
        }
        try (ChildCommand kv = ChildCommand.start("kv", "--io-threads", "1", "--workers", "1")) {
            // The pub/sub line follows the listening line: wait for the child to print it (bounded, no sleep).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!kv.log().contains("pub/sub: in-process") && System.nanoTime() < deadline) {
                kv.process().waitFor(20, TimeUnit.MILLISECONDS);
            }
            String log = kv.log();
            assertTrue(log.indexOf("kv listening on") >= 0 && log.indexOf("pub/sub: in-process") > log.indexOf("kv listening on"),
                    log);
        }
    }
}
