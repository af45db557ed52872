package dev.serverframework.examples;

import dev.serverframework.core.testing.RawClient;
import dev.serverframework.echo.ChatRoom;
import dev.serverframework.examples.chat.WebChat;
import dev.serverframework.http.sse.SseStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: {@code examples chat} with two headless chromium sessions on its page and one raw TCP line
 * client, all in one room; and a page on the SSE fallback that loses its stream and, reconnecting with
 * {@code Last-Event-ID}, gets the lines it missed exactly once.
 */
class ChatBrowserTest {
    private final List<AutoCloseable> open = new ArrayList<>();
    private ChatServers chat;

    @BeforeEach
    void start() {
        ChatBrowser.assumeInstalled();
        chat = ChatServers.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (chat != null) {
            chat.close();
        }
    }

    private ChatBrowser browser(String pathAndQuery) throws Exception {
        ChatBrowser b = ChatBrowser.open(chat.http(pathAndQuery));
        open.add(b);
        return b;
    }

    private RawClient lineClient() {
        RawClient c = new RawClient(chat.lines.port());
        open.add(c);
        return c;
    }

    private static String nameIn(String welcome) {
        assertTrue(welcome.startsWith("* welcome, you are guest-"), welcome);
        return welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));
    }

    /**
     * Two browsers on WebSocket and nc's stand-in chat: each sees the others' lines, joins, leaves and
     * renames; a line with markup shows as text in the pages and runs nothing.
     */
    @Test
    void twoBrowsersAndALineClientChat() throws Exception {
        ChatBrowser a = browser("/");
        String aName = a.waitUntilOpen("websocket");
        RawClient tcp = lineClient();
        String tcpName = nameIn(tcp.readLine());
        a.waitForLine("* " + tcpName + " joined");
        ChatBrowser b = browser("/");
        String bName = b.waitUntilOpen("websocket");
        a.waitForLine("* " + bName + " joined");
        assertEquals("* " + bName + " joined", tcp.readLine());

        a.type("/nick alice");
        a.waitFor("the page to show its new name", p -> p.me().equals("alice"));
        b.waitForLine("* " + aName + " is now known as alice");
        assertEquals("* " + aName + " is now known as alice", tcp.readLine());

        a.type("hello from alice");
        b.waitForLine("alice: hello from alice");
        assertEquals("alice: hello from alice", tcp.readLine());
        a.waitForLine("alice: hello from alice");
        assertEquals("mine", a.script("return document.querySelector('#messages li:last-child').className;"));

        tcp.send("hi from nc\n");
        a.waitForLine(tcpName + ": hi from nc");
        b.waitForLine(tcpName + ": hi from nc");

        String markup = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script> &amp; <b>bold</b>";
        b.type(markup);
        assertEquals(bName + ": " + markup, tcp.readLine());
        a.waitForLine(bName + ": " + markup);
        b.waitForLine(bName + ": " + markup);
        for (ChatBrowser page : List.of(a, b)) {
            assertEquals(0L, page.script("return document.querySelectorAll('#messages img, #messages script, #messages b').length;"));
            assertEquals("server-framework chat", page.title());
        }

        b.close();
        open.remove(b);
        a.waitForLine("* " + bName + " left");
        assertEquals("* " + bName + " left", tcp.readLine());
        tcp.send("/quit\n");
        assertEquals("* bye", tcp.readLine());
        a.waitForLine("* " + tcpName + " left");
        a.type("/who");
        a.waitForLine("* 1 online: alice");
    }

    /**
     * A page forced onto SSE chats like the others; its stream breaks (the server cuts it while the browser
     * is offline), the others talk meanwhile, and the browser reconnects by itself with Last-Event-ID: it is
     * welcomed back under its name, gets the missed lines once each, in order, and nobody saw it leave.
     */
    @Test
    void aPageOnSseReconnectsWithLastEventIdAndGetsWhatItMissedOnce() throws Exception {
        ChatBrowser a = browser("/");
        String aName = a.waitUntilOpen("websocket");
        RawClient tcp = lineClient();
        String tcpName = nameIn(tcp.readLine());
        ChatBrowser b = browser("/?transport=sse");
        String bName = b.waitUntilOpen("sse");
        a.waitForLine("* " + bName + " joined");
        assertEquals("* " + bName + " joined", tcp.readLine());

        b.type("hello over sse");
        assertEquals(bName + ": hello over sse", tcp.readLine());
        a.waitForLine(bName + ": hello over sse");
        b.waitForLine(bName + ": hello over sse");
        tcp.send("to the sse page\n");
        b.waitForLine(tcpName + ": to the sse page");
        a.type("from the websocket page");
        b.waitForLine(aName + ": from the websocket page");
        assertEquals(aName + ": from the websocket page", tcp.readLine());

        // Offline first, so that the browser's reconnects fail until the others have talked.
        b.offline(true);
        chat.web.each(null, ChatRoom.SERVICE, c -> {
            if (SseStream.of(c) != null) {
                c.abort();
            }
        }, null);
        b.waitFor("the page to see its stream break", p -> "reconnecting".equals(p.state()));
        tcp.send("missed one\n");
        a.type("missed two");
        assertEquals(aName + ": missed two", tcp.readLine());
        a.waitForLine(tcpName + ": missed one");
        assertFalse(b.lines().contains(tcpName + ": missed one"));

        b.offline(false);
        b.waitForLine("* welcome back, you are " + bName);
        b.waitForLine(aName + ": missed two");
        b.waitFor("the page to be connected again", p -> "open".equals(p.state()));
        List<String> lines = b.lines();
        int back = lines.indexOf("* welcome back, you are " + bName);
        assertTrue(back < lines.indexOf(tcpName + ": missed one") && lines.indexOf(tcpName + ": missed one")
                < lines.indexOf(aName + ": missed two"), "in order after the welcome back: " + lines);
        for (String line : List.of(bName + ": hello over sse", tcpName + ": to the sse page",
                aName + ": from the websocket page", tcpName + ": missed one", aName + ": missed two")) {
            assertEquals(1, b.count(line), "'" + line + "' shown once: " + lines);
        }
        assertEquals(bName, b.me());

        // Nobody was told: the next line the others get is the one the page sends over its new stream.
        b.type("back again");
        assertEquals(bName + ": back again", tcp.readLine());
        a.waitForLine(bName + ": back again");
        assertFalse(a.lines().contains("* " + bName + " left"), "the blip was announced: " + a.lines());
        assertEquals(1, chat.webChat().sseSessions());
    }

    /**
     * A browser without WebSocket uses the fallback on its own, and one whose WebSocket never opens (its
     * handshake answered without the upgrade) falls back to it: both chat with a line client over SSE and POST.
     */
    @Test
    void pagesWithoutAWorkingWebSocketFallBackToSse() throws Exception {
        RawClient tcp = lineClient();
        String tcpName = nameIn(tcp.readLine());
        ChatBrowser noWebSocket = ChatBrowser.start();
        open.add(noWebSocket);
        noWebSocket.beforeEveryPage("delete window.WebSocket;");
        noWebSocket.get(chat.http("/"));
        String first = noWebSocket.waitUntilOpen("sse");
        assertEquals("* " + first + " joined", tcp.readLine());

        // As behind a proxy that drops the upgrade: the handshake reaches a plain route and gets a 200.
        ChatBrowser blocked = ChatBrowser.start();
        open.add(blocked);
        blocked.beforeEveryPage("const Real = window.WebSocket;"
                + "window.WebSocket = function (url) { return new Real(url.replace('" + WebChat.WEBSOCKET_PATH + "', '/')); };");
        blocked.get(chat.http("/"));
        String second = blocked.waitUntilOpen("sse");
        assertEquals("* " + second + " joined", tcp.readLine());

        noWebSocket.type("no WebSocket here");
        assertEquals(first + ": no WebSocket here", tcp.readLine());
        blocked.waitForLine(first + ": no WebSocket here");
        blocked.type("mine was blocked");
        assertEquals(second + ": mine was blocked", tcp.readLine());
        noWebSocket.waitForLine(second + ": mine was blocked");
        tcp.send("hello both\n");
        noWebSocket.waitForLine(tcpName + ": hello both");
        blocked.waitForLine(tcpName + ": hello both");
    }
}
