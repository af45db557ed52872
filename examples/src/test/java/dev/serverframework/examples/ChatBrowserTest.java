package dev.serverframework.examples;

import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: {@code examples chat} with two headless chromium sessions on its page and one raw TCP line
 * client, all in one room.
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
}
