package dev.serverframework.examples;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * socat as a user's pipe into a server ({@code socat - TCP:host:port < input}): it sends the input,
 * shuts down its side at the end of it (a half-close) and prints what comes back until the server closes.
 * .ci/run installs socat, so CI always runs the tests that use it; a bare {@code mvn verify} elsewhere
 * skips them, saying why.
 */
final class Socat {
    private Socat() {
    }

    /** Pipes {@code input} through socat to 127.0.0.1:{@code port}; returns what socat printed. */
    static byte[] pipe(Path dir, byte[] input, int port) throws Exception {
        Process which = new ProcessBuilder("sh", "-c", "command -v socat").start();
        Assumptions.assumeTrue(which.waitFor(10, TimeUnit.SECONDS) && which.exitValue() == 0,
                "socat is missing: apt-get install socat (.ci/run does)");
        Path in = Files.write(dir.resolve("in"), input);
        Path out = dir.resolve("out");
        // -t 10: after its half-close, socat waits up to 10 s for the server to finish and close.
        Process p = new ProcessBuilder("socat", "-t", "10", "-", "TCP:127.0.0.1:" + port)
                .redirectInput(in.toFile())
                .redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("socat did not finish: the server never closed the connection");
        }
        assertEquals(0, p.exitValue(), "socat failed");
        return Files.readAllBytes(out);
    }
}
