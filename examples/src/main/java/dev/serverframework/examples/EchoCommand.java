package dev.serverframework.examples;

import dev.serverframework.core.ServerBuilder;
import dev.serverframework.echo.EchoProtocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code echo}: sends back every byte it receives; with options, the C original's echo demo (greeting,
 * line mode with {@code bye}, idle probe, goodbye on shutdown).
 */
@Command(name = "echo", mixinStandardHelpOptions = true,
        description = "Echo server: sends every byte back. Try: socat - TCP:127.0.0.1:7007")
final class EchoCommand implements Callable<Integer> {
    @Option(names = "--port", description = "TCP port (default: ${DEFAULT-VALUE}).", defaultValue = "7007")
    int port;

    @Option(names = "--greeting", paramLabel = "TEXT", description = "Send this line when a client connects.")
    String greeting;

    @Option(names = "--line-mode", description = "Echo whole lines; a line 'bye' ends the connection.")
    boolean lineMode;

    @Option(names = "--ping", paramLabel = "TEXT",
            description = "On idle timeout send this probe line; close at the second timeout in a row.")
    String ping;

    @Option(names = "--goodbye", paramLabel = "TEXT", description = "Send this line to every client when the server stops.")
    String goodbye;

    @Option(names = "--demo",
            description = "All of the C demo's options: greeting, line mode, ping probe and goodbye.")
    boolean demo;

    @Mixin
    ServerOptions options;

    /** The echo protocol these options describe. */
    EchoProtocol protocol() {
        if (demo) {
            greeting = greeting != null ? greeting : "Hello there... type 'bye' to leave";
            lineMode = true;
            ping = ping != null ? ping : "Server: ping?";
            goodbye = goodbye != null ? goodbye : "Echo server shutting down\nGoodbye.";
        }
        return EchoProtocol.builder()
                .greeting(line(greeting))
                .lineMode(lineMode)
                .ping(line(ping))
                .goodbye(line(goodbye))
                .build();
    }

    /** The server these options describe, not yet started. */
    ServerBuilder server() {
        return options.builder("--port", port, protocol());
    }

    /** Runs the echo server until it is stopped. On the main thread. */
    @Override
    public Integer call() throws Exception {
        return options.runUntilStopped(server().build(), "echo");
    }

    private static String line(String text) {
        return text == null ? null : text + "\n";
    }
}
