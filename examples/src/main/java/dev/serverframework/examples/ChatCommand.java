package dev.serverframework.examples;

import dev.serverframework.core.ServerBuilder;
import dev.serverframework.echo.ChatProtocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code chat}: a line-based chat room with /nick, /who and /quit. */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat server: each line goes to every other client, prefixed by the sender's name.",
                "Commands: /nick NAME, /who, /quit. Try: socat - TCP:127.0.0.1:7008",
                "Chat connections use --chat-idle-timeout instead of --idle-timeout."})
final class ChatCommand implements Callable<Integer> {
    @Option(names = "--port", description = "TCP port (default: ${DEFAULT-VALUE}).", defaultValue = "7008")
    int port;

    @Option(names = "--max-line", paramLabel = "BYTES",
            description = "Longest line; a longer one gets an error and a close (default: ${DEFAULT-VALUE}).",
            defaultValue = "1024")
    int maxLine;

    @Option(names = "--max-pending", paramLabel = "BYTES",
            description = "Bytes that may wait for a slow client before it is dropped (default: ${DEFAULT-VALUE}).",
            defaultValue = "1048576")
    long maxPending;

    @Option(names = "--chat-idle-timeout", paramLabel = "SECONDS",
            description = "Idle timeout of chat connections, 0 = the server's (default: ${DEFAULT-VALUE}).",
            defaultValue = "600")
    long chatIdleSeconds;

    @Mixin
    ServerOptions options;

    /** The chat protocol these options describe. */
    ChatProtocol protocol() {
        return ChatProtocol.builder()
                .maxLineLength(maxLine)
                .maxPendingBytes(maxPending)
                .idleTimeout(Duration.ofSeconds(chatIdleSeconds))
                .build();
    }

    /** The server these options describe, not yet started. */
    ServerBuilder server() {
        return options.builder(port, protocol());
    }

    /** Runs the chat server until it is stopped. */
    @Override
    public Integer call() throws Exception {
        return ServerOptions.runUntilStopped(server().build(), "chat");
    }
}
