package dev.serverframework.examples;

import dev.serverframework.core.testing.RawClient;
import dev.serverframework.echo.ChatRoom;
import dev.serverframework.examples.chat.WebChat;
import dev.serverframework.http.sse.SseStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code examples chat} without a browser: the JDK's WebSocket client and {@code HttpClient} (an event
 * stream and POSTs) on the web port, a raw TCP line client on the line port, all in one room.
 */
class WebChatTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> open = new ArrayList<>();
    private ChatServers chat;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (chat != null) {
            chat.close();
        }
    }

    private ChatServers start(String... args) {
        chat = ChatServers.start(args);
        return chat;
    }

    private RawClient lineClient() {
        RawClient c = new RawClient(chat.lines.port());
        open.add(c);
        return c;
    }

    private WsClient webSocket() throws Exception {
        WsClient c = WsClient.connect(chat.ws());
        open.add(c);
        return c;
    }

    private SseClient events(String lastEventId) throws Exception {
        SseClient c = SseClient.open(http, chat.http(WebChat.EVENTS_PATH), lastEventId);
        open.add(c);
        assertEquals(200, c.status());
        return c;
    }

    /** Cuts every event stream of the web server, as a network failure would. */
    private void cutEventStreams() {
        chat.web.each(null, ChatRoom.SERVICE, c -> {
            if (SseStream.of(c) != null) {
                c.abort();
            }
        }, null);
    }

    private static String nameIn(String welcome) {
        assertTrue(welcome.startsWith("* welcome, you are guest-"), welcome);
        return welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));
    }

    /**
     * A WebSocket member and a line client chat: lines both ways, the WebSocket member's own lines back to
     * it, join and leave lines, /nick, several lines in one message, empty lines ignored.
     */
    @Test
    void aWebSocketAndALineClientChat() throws Exception {
        start();
        RawClient tcp = lineClient();
        String tcpName = nameIn(tcp.readLine());
        WsClient ws = webSocket();
        String wsName = nameIn(ws.line());
        assertEquals("* " + wsName + " joined", tcp.readLine());

        ws.send("hello from the web");
        assertEquals(wsName + ": hello from the web", tcp.readLine());
        assertEquals(wsName + ": hello from the web", ws.line(), "a web member gets its own lines back");
        tcp.send("hello from nc\n");
        assertEquals(tcpName + ": hello from nc", ws.line());

        ws.send("/nick wendy");
        assertEquals("* you are now wendy", ws.line());
        assertEquals("* " + wsName + " is now known as wendy", tcp.readLine());
        ws.send("one\n\ntwo\r\nthree");
        assertEquals("wendy: one", tcp.readLine());
        assertEquals("wendy: two", tcp.readLine());
        assertEquals("wendy: three", tcp.readLine());
        assertEquals("wendy: one", ws.line());
        assertEquals("wendy: two", ws.line());
        assertEquals("wendy: three", ws.line());
        ws.send("/who");
        List<String> names = new ArrayList<>(List.of("wendy", tcpName));
        names.sort(null);
        assertEquals("* 2 online: " + String.join(", ", names), ws.line());

        ws.send("/quit");
        assertEquals("* bye", ws.line());
        assertEquals("1000 ", ws.closeStatus());
        assertEquals("* wendy left", tcp.readLine());
    }

    /** A line over the room's limit gets an error and a close, on either transport. */
    @Test
    void aLineTooLongGetsAnErrorThenTheClose() throws Exception {
        start("--max-line", "20");
        RawClient tcp = lineClient();
        nameIn(tcp.readLine());
        WsClient ws = webSocket();
        String wsName = nameIn(ws.line());
        assertEquals("* " + wsName + " joined", tcp.readLine());

        ws.send("x".repeat(20));
        assertEquals(wsName + ": " + "x".repeat(20), tcp.readLine());
        ws.send("é".repeat(11));
        assertEquals(wsName + ": " + "x".repeat(20), ws.line());
        assertEquals("error: line longer than 20 bytes", ws.line());
        assertEquals("1000 ", ws.closeStatus());
        assertEquals("* " + wsName + " left", tcp.readLine());

        SseClient sse = events(null);
        String token = sse.next().data();
        String sseName = nameIn(sse.line());
        assertEquals("* " + sseName + " joined", tcp.readLine());
        assertEquals(204, post(token, "é".repeat(11)).statusCode());
        assertEquals("error: line longer than 20 bytes", sse.line());
        assertEquals("bye", sse.next().type(), "the page is told not to reconnect");
        sse.awaitEnd();
        assertEquals("* " + sseName + " left", tcp.readLine());

        tcp.send("y".repeat(21) + "\n");
        assertEquals("error: line longer than 20 bytes", tcp.readLine());
        assertTrue(tcp.isClosedByServer());
    }

    /** Chat lines are text: a binary message closes the socket with 1003. */
    @Test
    void aBinaryMessageClosesTheSocket() throws Exception {
        start();
        WsClient ws = webSocket();
        nameIn(ws.line());
        ws.sendBinary(new byte[] {1, 2, 3});
        assertEquals("1003 chat lines are text messages", ws.closeStatus());
    }

    /**
     * A WebSocket member that stops reading is closed with 1008 once more than --max-pending bytes wait
     * for it; the others hear it left (too slow) and keep receiving every line.
     */
    @Test
    void aWebSocketThatStopsReadingIsDropped() throws Exception {
        start("--max-pending", "65536");
        RawClient tcp = lineClient();
        String tcpName = nameIn(tcp.readLine());
        // Its welcome and the next join line, then nothing.
        WsClient slow = WsClient.connect(chat.ws(), 2);
        open.add(slow);
        String slowName = nameIn(slow.line());
        assertEquals("* " + slowName + " joined", tcp.readLine());
        WsClient reader = webSocket();
        String readerName = nameIn(reader.line());
        assertEquals("* " + readerName + " joined", tcp.readLine());
        assertEquals("* " + readerName + " joined", slow.line());

        String padding = "p".repeat(900);
        String dropped = "* " + slowName + " left (too slow)";
        int sent = 0;
        boolean droppedSeen = false;
        while (!droppedSeen) {
            assertTrue(sent < 20_000, "the slow socket was never dropped");
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 50; i++, sent++) {
                batch.append("line ").append(sent).append(' ').append(padding).append('\n');
            }
            tcp.send(batch.toString());
            for (int i = sent - 50; i < sent; i++) {
                String line = reader.line();
                if (line.equals(dropped)) {
                    droppedSeen = true;
                    line = reader.line();
                }
                assertEquals(tcpName + ": line " + i + " " + padding, line);
            }
        }
        assertEquals(dropped, tcp.readLine());
    }

    /**
     * An SSE member chats through POSTs with a WebSocket member and a line client; its stream breaks, the
     * others talk, and it comes back with {@code Last-Event-ID}: same token and name, a welcome back, the
     * missed lines once each in order, and nobody told. Then /quit ends its session.
     */
    @Test
    void anSseMemberChatsThroughPostsAndComesBackWithLastEventId() throws Exception {
        start();
        RawClient tcp = lineClient();
        String tcpName = nameIn(tcp.readLine());
        WsClient ws = webSocket();
        String wsName = nameIn(ws.line());
        assertEquals("* " + wsName + " joined", tcp.readLine());

        SseClient sse = events(null);
        SseClient.Event token = sse.next();
        assertEquals("token", token.type());
        assertEquals("1000", token.retry(), "the browser is asked to reconnect after a second");
        SseClient.Event welcome = sse.next();
        String name = nameIn(welcome.data());
        assertTrue(welcome.id().startsWith(token.data() + "."), welcome.id());
        assertEquals("* " + name + " joined", tcp.readLine());
        assertEquals("* " + name + " joined", ws.line());

        assertEquals(204, post(token.data(), "hello from sse").statusCode());
        assertEquals(name + ": hello from sse", tcp.readLine());
        assertEquals(name + ": hello from sse", ws.line());
        assertEquals(name + ": hello from sse", sse.line(), "an SSE member gets its own lines back");
        tcp.send("hello from nc\n");
        assertEquals(tcpName + ": hello from nc", sse.line());
        assertEquals(tcpName + ": hello from nc", ws.line());
        ws.send("hello from ws");
        assertEquals(wsName + ": hello from ws", ws.line());
        assertEquals(wsName + ": hello from ws", tcp.readLine());
        SseClient.Event last = sse.next();
        assertEquals(wsName + ": hello from ws", last.data());

        cutEventStreams();
        sse.awaitEnd();
        HttpResponse<String> away = post(token.data(), "while away");
        assertEquals(503, away.statusCode(), "a line while the stream reconnects is to be sent again");
        assertEquals("1", away.headers().firstValue("retry-after").orElseThrow());
        tcp.send("missed one\n");
        assertEquals(tcpName + ": missed one", ws.line());
        ws.send("missed two");
        assertEquals(wsName + ": missed two", ws.line());
        assertEquals(wsName + ": missed two", tcp.readLine());

        SseClient back = events(last.id());
        assertEquals(token.data(), back.next().data(), "the same token");
        SseClient.Event welcomeBack = back.next();
        assertEquals("* welcome back, you are " + name, welcomeBack.data());
        assertEquals(last.id(), welcomeBack.id(), "the welcome back says where the client was");
        SseClient.Event one = back.next();
        SseClient.Event two = back.next();
        assertEquals(tcpName + ": missed one", one.data());
        assertEquals(wsName + ": missed two", two.data());
        assertTrue(position(last) < position(one) && position(one) < position(two), one + " " + two);

        List<String> names = new ArrayList<>(List.of(name, tcpName, wsName));
        names.sort(null);
        String who = "* 3 online: " + String.join(", ", names);
        assertEquals(204, post(token.data(), "/who").statusCode());
        assertEquals(who, back.line(), "nothing came twice");
        tcp.send("/who\n");
        assertEquals(who, tcp.readLine(), "and nobody was told of the blip");

        assertEquals(204, post(token.data(), "/quit").statusCode());
        assertEquals("* bye", back.line());
        assertEquals("bye", back.next().type());
        back.awaitEnd();
        assertEquals("* " + name + " left", tcp.readLine());
        assertEquals(404, post(token.data(), "still there?").statusCode());
        assertEquals(0, chat.webChat().sseSessions());
    }

    private static long position(SseClient.Event e) {
        return Long.parseLong(e.id().substring(e.id().lastIndexOf('.') + 1));
    }

    /**
     * A member whose stream stays broken past the away grace leaves; coming back later, or with an id that
     * names no member, is a new member.
     */
    @Test
    void anSseMemberThatDoesNotComeBackInTimeLeaves() throws Exception {
        start("--away-grace", "1");
        RawClient tcp = lineClient();
        nameIn(tcp.readLine());
        SseClient sse = events(null);
        String token = sse.next().data();
        SseClient.Event welcome = sse.next();
        String name = nameIn(welcome.data());
        assertEquals("* " + name + " joined", tcp.readLine());

        cutEventStreams();
        sse.awaitEnd();
        assertEquals("* " + name + " left", tcp.readLine(), "after the away grace");
        assertEquals(404, post(token, "hello?").statusCode());

        SseClient late = events(welcome.id());
        String newToken = late.next().data();
        assertNotEquals(token, newToken);
        String newName = nameIn(late.line());
        assertNotEquals(name, newName);
        assertEquals("* " + newName + " joined", tcp.readLine());
        for (String bad : List.of("garbage", "no-such-token.12", ".5", "x.")) {
            SseClient stranger = events(bad);
            assertEquals("token", stranger.next().type());
            assertTrue(stranger.line().startsWith("* welcome, you are guest-"), bad);
            assertTrue(tcp.readLine().endsWith(" joined"));
        }
    }

    /** The page: self-contained, with a policy that allows its own inline script and style only. */
    @Test
    void thePageIsSelfContained() throws Exception {
        start("--max-line", "300");
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(chat.http("/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode());
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("content-type").orElseThrow());
        String policy = page.headers().firstValue("content-security-policy").orElseThrow();
        assertTrue(policy.startsWith("default-src 'none'; script-src 'sha256-"), policy);
        assertTrue(policy.contains("connect-src 'self'"), policy);
        String html = page.body();
        assertTrue(html.contains("data-max-line=\"300\""));
        assertFalse(html.contains("http://") || html.contains("https://"), "the page loads nothing from elsewhere");
        assertFalse(html.matches("(?s).*(src|href)\\s*=\\s*\"(?!data:).*"), "no external script, style or link");
    }

    /** POSTs that name no member get 404; bodies over the limit get 413, before any member is looked up. */
    @Test
    void postsWithoutAMemberOrTooBigAreRefused() throws Exception {
        start();
        HttpResponse<String> unknown = post("no-such-token", "hello");
        assertEquals(404, unknown.statusCode());
        HttpResponse<String> none = http.send(HttpRequest.newBuilder(chat.http(WebChat.SEND_PATH))
                .POST(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, none.statusCode());
        int limit = chat.webChat().maxMessageBytes();
        assertEquals(413, post("no-such-token", "x".repeat(limit + 1)).statusCode());
    }

    private HttpResponse<String> post(String token, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(chat.http(WebChat.SEND_PATH))
                .header(WebChat.TOKEN_HEADER, token)
                .header("Content-Type", "text/plain; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
