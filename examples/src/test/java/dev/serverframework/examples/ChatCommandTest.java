package dev.serverframework.examples;

import dev.serverframework.core.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code examples chat} as a user runs it, in a JVM of its own: it says where line clients and browsers
 * connect, and socat, a real line client, chats with a WebSocket member of the page's endpoint.
 */
class ChatCommandTest {
    private static final Pattern WEB = Pattern.compile(
            "chat web page listening on 127\\.0\\.0\\.1:(\\d+): open (http://127\\.0\\.0\\.1:(\\d+)/)");

    @Test
    void defaultPortsAndOptions() {
        ChatCommand chat = new ChatCommand();
        CommandLine cli = new CommandLine(chat);
        cli.parseArgs();
        assertEquals(7008, chat.port);
        assertEquals(8008, chat.httpPort);
        assertEquals(100, chat.history);
        String usage = cli.getUsageMessage();
        for (String option : new String[] {"--port", "--http-port", "--max-line", "--max-pending", "--history",
                "--away-grace", "--chat-idle-timeout"}) {
            assertTrue(usage.contains(option), option + " in:\n" + usage);
        }
    }

    @Test
    void socatAndAWebSocketMemberChatThroughTheCommand(@TempDir Path dir) throws Exception {
        try (ChildCommand child = ChildCommand.start("chat", "--http-port", "0")) {
            // The line server's address comes first (ChildCommand waits for it); the page's follows.
            Await.until("the command to print the page's address", () -> WEB.matcher(child.log()).find());
            String log = child.log();
            assertTrue(log.contains("for line clients") && log.contains("nc 127.0.0.1 " + child.port()), log);
            Matcher web = WEB.matcher(log);
            assertTrue(web.find(), log);
            assertEquals(web.group(1), web.group(3));
            int httpPort = Integer.parseInt(web.group(1));

            HttpResponse<String> page = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(web.group(2))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<title>server-framework chat</title>"));

            try (WsClient ws = WsClient.connect(URI.create("ws://127.0.0.1:" + httpPort + "/chat/ws"))) {
                String welcome = ws.line();
                assertTrue(welcome.startsWith("* welcome, you are guest-"), welcome);
                String wsName = welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));

                // socat sends its lines, half-closes, and prints what the room sent it until the close.
                String got = new String(Socat.pipe(dir, "/nick socat\nhello from socat\n/quit\n"
                        .getBytes(StandardCharsets.UTF_8), child.port()), StandardCharsets.UTF_8);
                String[] lines = got.split("\n");
                assertTrue(lines[0].startsWith("* welcome, you are guest-"), got);
                String socatName = lines[0].substring("* welcome, you are ".length(), lines[0].indexOf(';'));
                assertEquals("* you are now socat", lines[1], got);
                assertEquals("* bye", lines[lines.length - 1], got);

                assertEquals("* " + socatName + " joined", ws.line());
                assertEquals("* " + socatName + " is now known as socat", ws.line());
                assertEquals("socat: hello from socat", ws.line());
                assertEquals("* socat left", ws.line());
                ws.send("/who");
                assertEquals("* 1 online: " + wsName, ws.line());
            }
        }
    }
}
