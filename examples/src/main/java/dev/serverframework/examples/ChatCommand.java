package dev.serverframework.examples;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerBuilder;
import dev.serverframework.echo.ChatProtocol;
import dev.serverframework.echo.ChatRoom;
import dev.serverframework.examples.chat.WebChat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code chat}: one chat room for line clients (nc, socat) on {@code --port} and browsers on
 * {@code --http-port}. Two servers, one per port, seated in one {@link ChatRoom}: a line from either
 * reaches the members of both. Both servers share the process's one pub/sub ({@link ServerOptions#pubSub}),
 * through which the room is relayed, so instances on one {@code --redis} share the room.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat server: each line goes to every other member, prefixed by the sender's name.",
                "Line clients and browsers share one room. Commands: /nick NAME, /who, /quit.",
                "Line clients: nc 127.0.0.1 7008 (or socat - TCP:127.0.0.1:7008).",
                "Browsers: http://127.0.0.1:8008/ chats over WebSocket, or over SSE + POST where WebSocket "
                        + "is missing (?transport=sse forces it).",
                "Line clients use --chat-idle-timeout instead of --idle-timeout.",
                "With --redis, the instances on that Redis share the room (channel --room-channel); "
                        + "/who lists this instance's members."})
final class ChatCommand implements Callable<Integer> {
    @Option(names = "--port", description = "TCP port of line clients (default: ${DEFAULT-VALUE}).", defaultValue = "7008")
    int port;

    @Option(names = "--http-port", paramLabel = "PORT",
            description = "HTTP port of the web page, its WebSocket and its event stream (default: ${DEFAULT-VALUE}).",
            defaultValue = "8008")
    int httpPort;

    @Option(names = "--max-line", paramLabel = "BYTES",
            description = "Longest line; a longer one gets an error and a close (default: ${DEFAULT-VALUE}).",
            defaultValue = "1024")
    int maxLine;

    @Option(names = "--max-pending", paramLabel = "BYTES",
            description = "Bytes that may wait for a slow client before it is dropped (default: ${DEFAULT-VALUE}).",
            defaultValue = "1048576")
    long maxPending;

    @Option(names = "--chat-idle-timeout", paramLabel = "SECONDS",
            description = "Idle timeout of line clients, 0 = the server's (default: ${DEFAULT-VALUE}).",
            defaultValue = "600")
    long chatIdleSeconds;

    @Option(names = "--history", paramLabel = "LINES",
            description = "Last lines kept for browsers whose event stream reconnects (default: ${DEFAULT-VALUE}).",
            defaultValue = "100")
    int history;

    @Option(names = "--away-grace", paramLabel = "SECONDS",
            description = "How long a browser whose event stream broke keeps its seat (default: ${DEFAULT-VALUE}).",
            defaultValue = "30")
    long awayGraceSeconds;

    @Option(names = "--room-channel", paramLabel = "NAME",
            description = "Pub/sub channel the room is relayed on, shared with the other instances "
                    + "(default: ${DEFAULT-VALUE}).", defaultValue = "chat")
    String roomChannel;

    @Mixin
    ServerOptions options;

    @Mixin
    RedisOption redis;

    @Spec
    CommandSpec spec;

    /** The option of each setting of the room, the line protocol and the web chat, for {@link OptionChecks}. */
    static final Map<String, String> OPTIONS = Map.of("maxLineLength", "--max-line", "history", "--history",
            "channel", "--room-channel", "maxPendingBytes", "--max-pending", "maxQueuedBytes", "--max-pending",
            "idleTimeout", "--chat-idle-timeout", "awayGrace", "--away-grace");

    private ChatRoom room;
    private WebChat web;

    /** The room both servers seat their members in, made on first use. */
    ChatRoom room() {
        if (room == null) {
            // Relayed through the servers' one pub/sub (ServerOptions.pubSub), in-process or Redis.
            room = OptionChecks.check(spec, OPTIONS,
                    () -> ChatRoom.builder().maxLineLength(maxLine).history(history).channel(roomChannel).build());
        }
        return room;
    }

    /** The line protocol these options describe, in the shared room. */
    ChatProtocol protocol() {
        ChatRoom shared = room();
        return OptionChecks.check(spec, OPTIONS, () -> ChatProtocol.builder()
                .room(shared)
                .maxPendingBytes(maxPending)
                .idleTimeout(Duration.ofSeconds(chatIdleSeconds))
                .build());
    }

    /** The web chat these options describe, in the shared room, made on first use. */
    WebChat web() {
        if (web == null) {
            ChatRoom shared = room();
            web = OptionChecks.check(spec, OPTIONS, () -> WebChat.builder(shared)
                    .maxQueuedBytes(maxPending)
                    .awayGrace(Duration.ofSeconds(awayGraceSeconds))
                    .build());
        }
        return web;
    }

    /** The server of line clients these options describe, not yet started. */
    ServerBuilder server() {
        return options.clusteredBy(redis).builder("--port", port, protocol());
    }

    /**
     * The server of browsers these options describe, not yet started. The process's metrics, if asked for,
     * are the line server's: one metrics endpoint per process, started once and stopped with that server.
     */
    ServerBuilder webServer() {
        return options.clusteredBy(redis).builder("--http-port", httpPort, web().protocol()).onFinish(null);
    }

    /** Runs both servers until they are stopped. On the main thread. */
    @Override
    public Integer call() throws Exception {
        // The browsers' options first: the line server's builder reads the TLS files, a runtime error.
        web();
        options.checkPort("--http-port", httpPort);
        Server lines = server().build();
        Server browsers = webServer().build();
        options.start(lines, browsers);
        String host = lines.settings().bindAddress().getHostAddress();
        String reach = lines.settings().bindAddress().isAnyLocalAddress() ? "localhost" : host;
        System.out.printf("chat listening on %s:%d for line clients (%s): %s%n", host, lines.port(),
                options.details(lines), options.tls.on()
                        ? "openssl s_client -quiet -connect " + reach + ":" + lines.port()
                        : "nc " + reach + " " + lines.port());
        System.out.printf("chat web page listening on %s:%d: open %s://%s:%d/ (WebSocket %s; SSE %s + POST %s)%n",
                host, browsers.port(), options.tls.httpScheme(), urlHost(browsers.settings().bindAddress()),
                browsers.port(), WebChat.WEBSOCKET_PATH, WebChat.EVENTS_PATH, WebChat.SEND_PATH);
        System.out.println(options.pubSubLine() + ", room channel " + roomChannel);
        System.out.println("Ctrl-C stops it");
        lines.awaitTermination();
        browsers.awaitTermination();
        return 0;
    }

    /** How a user reaches a bound address: localhost for a wildcard, brackets around IPv6. */
    private static String urlHost(InetAddress bound) {
        if (bound.isAnyLocalAddress()) {
            return "localhost";
        }
        return bound instanceof Inet6Address ? "[" + bound.getHostAddress() + "]" : bound.getHostAddress();
    }
}
