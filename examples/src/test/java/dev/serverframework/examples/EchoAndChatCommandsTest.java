package dev.serverframework.examples;

import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code echo} and {@code chat} commands as a user runs them, with a real external client: socat
 * (installed by .ci/run) sends a file and half-closes at its end, as a user's pipe into socat or nc does.
 */
class EchoAndChatCommandsTest {
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    /** Parses the command line as {@code Main} would and starts the server on an ephemeral port. */
    private Server startEcho(String... args) {
        EchoCommand cmd = new EchoCommand();
        new CommandLine(cmd).parseArgs(withLocalPort(args));
        server = cmd.server().shutdownHook(false).build().start();
        return server;
    }

    private static String[] withLocalPort(String... args) {
        List<String> all = new ArrayList<>(List.of("--port", "0", "--bind", "127.0.0.1"));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    /** Runs socat with {@code input} as its standard input against the server; returns what it printed. */
    private byte[] socat(Path dir, byte[] input) throws Exception {
        return Socat.pipe(dir, input, server.port());
    }

    /** `examples echo` sends 4 MiB of random bytes back to socat unchanged, then closes after socat's half-close. */
    @Test
    void socatGetsRandomBinaryDataBackUnchanged(@TempDir Path dir) throws Exception {
        startEcho();
        byte[] data = new byte[4 * 1024 * 1024];
        new Random(42).nextBytes(data);
        assertArrayEquals(data, socat(dir, data));
    }

    /** `examples echo --demo`: greeting, lines echoed, "bye" ends the connection, nothing after it echoed. */
    @Test
    void socatSeesTheDemoGreetingAndByeEndsTheSession(@TempDir Path dir) throws Exception {
        startEcho("--demo");
        byte[] got = socat(dir, "hello\nworld\nbye\nnot echoed\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("Hello there... type 'bye' to leave\nhello\nworld\nbye\n", new String(got, StandardCharsets.UTF_8));
    }

    /** `examples echo --greeting TEXT --line-mode` applies both options. */
    @Test
    void greetingAndLineModeOptionsApply() {
        startEcho("--greeting", "hi", "--line-mode");
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("hi", c.readLine());
            assertEquals("one", c.send("one\n").readLine());
            c.send("bye\n");
            assertEquals("bye", c.readLine());
            assertTrue(c.isClosedByServer());
        }
    }

    /** `examples chat`: two clients, one line from each reaches the other with the sender's name. */
    @Test
    void chatCommandRunsAChatRoom() {
        ChatCommand cmd = new ChatCommand();
        new CommandLine(cmd).parseArgs(withLocalPort("--max-line", "100"));
        server = cmd.server().shutdownHook(false).build().start();
        try (RawClient a = new RawClient(server.port())) {
            assertTrue(a.readLine().startsWith("* welcome"));
            // B comes once A is in, so only A hears of a join.
            RawClient b = new RawClient(server.port());
            assertTrue(b.readLine().startsWith("* welcome"));
            assertTrue(a.readLine().endsWith(" joined"));
            a.send("/nick ann\n");
            assertEquals("* you are now ann", a.readLine());
            assertTrue(b.readLine().endsWith(" is now known as ann"));
            a.send("hello\n");
            assertEquals("ann: hello", b.readLine());
            b.send("x".repeat(101) + "\n");
            assertEquals("error: line longer than 100 bytes", b.readLine());
            b.close();
        }
    }

    /** The default ports of the issue: echo 7007, chat 7008. */
    @Test
    void defaultPorts() {
        EchoCommand echo = new EchoCommand();
        new CommandLine(echo).parseArgs();
        ChatCommand chat = new ChatCommand();
        new CommandLine(chat).parseArgs();
        assertEquals(7007, echo.port);
        assertEquals(7008, chat.port);
    }
}
