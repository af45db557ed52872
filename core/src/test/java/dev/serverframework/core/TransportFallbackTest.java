package dev.serverframework.core;

import dev.serverframework.core.testing.EchoServerProcess;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server asked for io_uring in a JVM where io_uring cannot be had: it starts anyway, on epoll (or NIO),
 * says so in one warning naming the cause, reports the transport it really uses, and serves. Netty decides
 * io_uring's availability once per JVM, so each case runs the server in a JVM of its own, made to lack
 * io_uring the way a real deployment can.
 */
class TransportFallbackTest {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) transport (\\w+)");

    /** The native library is missing (another CPU architecture, a jar left out): epoll takes over. */
    @Test
    void withoutTheIoUringNativeLibraryAServerAskedForIoUringRunsOnEpoll() throws Exception {
        String classPath = Arrays.stream(testClassPath().split(File.pathSeparator))
                .filter(entry -> !entry.contains("netty-transport-native-io_uring"))
                .collect(Collectors.joining(File.pathSeparator));
        String log = runEchoServer(classPath, List.of("-D" + Transport.PROPERTY + "=io_uring"), "AUTO",
                Transport.EPOLL);
        List<String> warnings = warnings(log);
        assertEquals(1, warnings.size(), "one warning expected:\n" + log);
        String warning = warnings.get(0);
        assertTrue(warning.contains("io_uring was requested (system property " + Transport.PROPERTY + "=io_uring)"),
                warning);
        assertTrue(warning.contains("netty_transport_native_io_uring"),
                "the cause names the missing library: " + warning);
        assertTrue(warning.endsWith("falling back to epoll"), warning);
        assertTrue(log.contains("transport epoll"), "the startup line names epoll:\n" + log);
    }

    /** Native transports switched off with Netty's own switch: NIO takes over, and the warning says why. */
    @Test
    void withNativeTransportsDisabledAServerSetToIoUringRunsOnNio() throws Exception {
        String log = runEchoServer(testClassPath(), List.of("-Dio.netty.transport.noNative=true"), "IO_URING",
                Transport.NIO);
        List<String> warnings = warnings(log);
        assertEquals(1, warnings.size(), "one warning expected:\n" + log);
        String warning = warnings.get(0);
        assertTrue(warning.contains("io_uring was requested (setting)"), warning);
        assertTrue(warning.contains("io.netty.transport.noNative"), "the cause is Netty's switch: " + warning);
        assertTrue(warning.endsWith("falling back to NIO"), warning);
    }

    /** The test JVM's real class path: surefire hands the JVM a one-entry manifest jar instead. */
    private static String testClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    private static List<String> warnings(String log) {
        return log.lines().filter(l -> l.contains(" WARN ")).collect(Collectors.toList());
    }

    /**
     * Runs {@link EchoServerProcess} with the transport setting {@code setting}, checks it runs on
     * {@code expected} and echoes a line, stops it through its standard input, and returns what it logged.
     */
    private static String runEchoServer(String classPath, List<String> jvmOptions, String setting, Transport expected)
            throws IOException, InterruptedException {
        Path output = Files.createTempFile("transport-fallback", ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", classPath));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of(EchoServerProcess.class.getName(), setting));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            Matcher m = awaitListening(p, output);
            assertEquals(expected.name(), m.group(2), "server.transport() in the child:\n" + read(output));
            try (RawClient c = new RawClient(Integer.parseInt(m.group(1)))) {
                assertEquals("still served", c.send("still served\n").readLine());
            }
            p.getOutputStream().close();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the child did not stop:\n" + read(output));
            assertEquals(0, p.exitValue(), read(output));
            return read(output);
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(output);
        }
    }

    private static Matcher awaitListening(Process p, Path output) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(read(output));
            if (m.find()) {
                return m;
            }
            assertFalse(p.waitFor(50, TimeUnit.MILLISECONDS), "the child exited early:\n" + read(output));
        }
        throw new AssertionError("the child did not start listening:\n" + read(output));
    }

    private static String read(Path output) throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }
}
