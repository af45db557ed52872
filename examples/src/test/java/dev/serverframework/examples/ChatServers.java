package dev.serverframework.examples;

import dev.serverframework.core.Server;
import dev.serverframework.examples.chat.WebChat;
import picocli.CommandLine;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code examples chat} in the test's JVM, as its command line builds it: the line server and the web
 * server on ephemeral loopback ports, one room. In-process, so that a test can reach the servers' {@code each}
 * (to break a browser's event stream, say).
 */
final class ChatServers implements AutoCloseable {
    final ChatCommand command;
    final Server lines;
    final Server web;

    private ChatServers(ChatCommand command, Server lines, Server web) {
        this.command = command;
        this.lines = lines;
        this.web = web;
    }

    /** Parses {@code chat --port 0 --http-port 0 --bind 127.0.0.1 <args>} and starts both servers. */
    static ChatServers start(String... args) {
        List<String> all = new ArrayList<>(List.of("--port", "0", "--http-port", "0", "--bind", "127.0.0.1"));
        all.addAll(List.of(args));
        ChatCommand cmd = new ChatCommand();
        new CommandLine(cmd).parseArgs(all.toArray(String[]::new));
        Server lines = cmd.server().shutdownHook(false).build().start();
        try {
            Server web = cmd.webServer().shutdownHook(false).build().start();
            return new ChatServers(cmd, lines, web);
        } catch (RuntimeException e) {
            lines.stop();
            throw e;
        }
    }

    WebChat webChat() {
        return command.web();
    }

    URI http(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + web.port() + pathAndQuery);
    }

    URI ws() {
        return URI.create("ws://127.0.0.1:" + web.port() + WebChat.WEBSOCKET_PATH);
    }

    @Override
    public void close() throws InterruptedException {
        lines.stop();
        web.stop();
        lines.awaitTermination();
        web.awaitTermination();
    }
}
