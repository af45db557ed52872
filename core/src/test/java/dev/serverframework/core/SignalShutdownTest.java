package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SIGTERM stops a server with shutdownHook(true) gracefully: goodbyes, onFinish, then the process exits. */
class SignalShutdownTest {
    private Process child;
    private Path childStdout;
    private Path childStderr;

    @AfterEach
    void killChild() throws Exception {
        if (child != null && child.isAlive()) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        for (Path p : new Path[] {childStdout, childStderr}) {
            if (p != null) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * The server of the child JVM: an echo server on an ephemeral port with the shutdown hook installed.
     * It prints "PORT n" when listening, "SHUTDOWN id" in onShutdown and "FINISHED" in onFinish.
     */
    public static final class ChildServer {
        private ChildServer() {
        }

        public static void main(String[] args) throws Exception {
            Server server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(true)
                    .workers(1).ioThreads(1)
                    .protocol(new LineProtocol("echo", (c, line) -> c.write(line + "\n")) {
                        @Override
                        public void onShutdown(Connection c) {
                            System.out.println("SHUTDOWN " + c.id());
                            System.out.flush();
                            c.write("goodbye\n");
                        }
                    })
                    .onFinish(s -> {
                        System.out.println("FINISHED");
                        System.out.flush();
                    })
                    .build().start();
            System.out.println("PORT " + server.port());
            System.out.flush();
            server.awaitTermination();
        }
    }

    @Test
    void sigtermStopsTheServerGracefully() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Files, not pipes: Process.destroy() closes the pipes to the child, and its last lines would be lost.
        childStdout = Files.createTempFile("signal-shutdown-child", ".out");
        childStderr = Files.createTempFile("signal-shutdown-child", ".err");
        child = new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), ChildServer.class.getName())
                .redirectOutput(childStdout.toFile())
                .redirectError(childStderr.toFile())
                .start();
        // A whole line: the port is read only once its newline is there.
        Pattern portLine = Pattern.compile("(?m)^PORT (\\d+)\\R");
        Await.until("the child to print its port", Duration.ofSeconds(20),
                () -> portLine.matcher(stdoutText()).find() || !child.isAlive());
        Matcher m = portLine.matcher(stdoutText());
        assertTrue(m.find(), "the child did not start: " + stdoutText() + "\n" + stderr());
        int port = Integer.parseInt(m.group(1));

        try (RawClient client = new RawClient(port)) {
            assertEquals("hello", client.send("hello\n").readLine());

            child.destroy(); // SIGTERM

            assertEquals("goodbye", client.readLine(), "onShutdown's goodbye; child stderr:\n" + stderr());
            assertTrue(client.isClosedByServer());
        }
        assertTrue(child.waitFor(20, TimeUnit.SECONDS), "the child did not exit after SIGTERM");

        List<String> output = stdout();
        assertTrue(output.stream().anyMatch(l -> l.startsWith("SHUTDOWN ")), output + "\n" + stderr());
        assertTrue(output.contains("FINISHED"), "onFinish ran: " + output + "\n" + stderr());
        assertTrue(indexOfPrefix(output, "SHUTDOWN ") < output.indexOf("FINISHED"), output.toString());
        // A JVM that ends on SIGTERM after its shutdown hooks exits with 128 + 15.
        assertEquals(143, child.exitValue(), stderr());
    }

    private static int indexOfPrefix(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    private String stdoutText() {
        try {
            return Files.readString(childStdout, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<String> stdout() {
        return stdoutText().lines().toList();
    }

    private String stderr() {
        try {
            return Files.readString(childStderr);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
