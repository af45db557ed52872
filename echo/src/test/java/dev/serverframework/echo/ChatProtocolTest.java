package dev.serverframework.echo;

import dev.serverframework.core.Server;
import dev.serverframework.core.ServerBuilder;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The chat protocol over real sockets: who gets which line, the commands, the limits, the slow client. */
class ChatProtocolTest {
    private Server server;
    private ExecutorService pool;
    private final List<RawClient> clients = new ArrayList<>();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        clients.forEach(RawClient::close);
        for (Socket s : sockets) {
            s.close();
        }
        if (pool != null) {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private void start(ChatProtocol chat) {
        ServerBuilder b = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).protocol(chat);
        server = b.build().start();
    }

    /** Connects, reads the welcome line and returns the client with the name the server gave it. */
    private Member join() {
        RawClient c = new RawClient(server.port());
        clients.add(c);
        String welcome = c.readLine();
        assertTrue(welcome.startsWith("* welcome, you are guest-"), welcome);
        String name = welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));
        return new Member(c, name);
    }

    private record Member(RawClient client, String name) {
        String line() {
            return client.readLine();
        }

        Member say(String line) {
            client.send(line + "\n");
            return this;
        }
    }

    /**
     * A line reaches every other connection, prefixed by the sender's name, and never the sender itself;
     * each join is announced to those already there.
     */
    @Test
    void aLineReachesExactlyTheOtherClientsWithTheSendersName() {
        start(new ChatProtocol());
        Member a = join();
        Member b = join();
        assertEquals("* " + b.name() + " joined", a.line());
        Member c = join();
        assertEquals("* " + c.name() + " joined", a.line());
        assertEquals("* " + c.name() + " joined", b.line());

        a.say("hello");
        assertEquals(a.name() + ": hello", b.line());
        assertEquals(a.name() + ": hello", c.line());
        b.say("hi");
        // A's next line is B's: its own "hello" never came back to it.
        assertEquals(b.name() + ": hi", a.line());
        assertEquals(b.name() + ": hi", c.line());
        c.say("yo");
        assertEquals(c.name() + ": yo", a.line());
        assertEquals(c.name() + ": yo", b.line());
    }

    /**
     * /nick renames (announced, unique), /who lists count and names, /quit closes after the answers
     * before it and is announced as a leave.
     */
    @Test
    void nickWhoAndQuit() {
        start(new ChatProtocol());
        Member a = join();
        Member b = join();
        assertEquals("* " + b.name() + " joined", a.line());

        a.say("/nick alice");
        assertEquals("* you are now alice", a.line());
        assertEquals("* " + a.name() + " is now known as alice", b.line());
        b.say("/nick alice");
        assertEquals("error: nickname alice is taken", b.line());
        b.say("/nick no spaces");
        assertTrue(b.line().startsWith("error: a nickname is"));
        a.say("hey");
        assertEquals("alice: hey", b.line());

        b.say("/who");
        List<String> names = new ArrayList<>(List.of("alice", b.name()));
        names.sort(null);
        assertEquals("* 2 online: " + String.join(", ", names), b.line());
        b.say("/nope");
        assertTrue(b.line().startsWith("error: unknown command /nope"));

        // Commands sent together are answered in order, even the one before /quit.
        b.say("/who\n/quit");
        assertEquals("* 2 online: " + String.join(", ", names), b.line());
        assertEquals("* bye", b.line());
        assertNull(b.line(), "the connection stays open after /quit");
        assertEquals("* " + b.name() + " left", a.line());
        a.say("/who");
        assertEquals("* 1 online: alice", a.line());
        Await.until("the server to count one chat connection", () -> server.count(ChatProtocol.SERVICE) == 1);
    }

    /** A line over the limit gets an error line and the connection is closed; the others see it leave. */
    @Test
    void aTooLongLineGetsAnErrorAndTheConnectionIsClosed() {
        start(ChatProtocol.builder().maxLineLength(32).build());
        Member a = join();
        Member b = join();
        assertEquals("* " + b.name() + " joined", a.line());

        b.say("x".repeat(32));
        assertEquals(b.name() + ": " + "x".repeat(32), a.line());
        b.say("y".repeat(33));
        assertEquals("error: line longer than 32 bytes", b.line());
        assertNull(b.line());
        assertEquals("* " + b.name() + " left", a.line());
        assertEquals(1, server.statistics().service(ChatProtocol.SERVICE).protocolErrors());
    }

    /**
     * A client that never reads falls behind and is dropped with a reason line; the sender and the other
     * readers are never held up and receive every line, in order. The dropped client gets its backlog, in
     * order, then the reason, then the close.
     */
    @Test
    void aClientThatNeverReadsIsDroppedWhileTheOthersKeepReceiving() throws Exception {
        start(ChatProtocol.builder().maxPendingBytes(64 * 1024).build());
        // The slow client: a small receive buffer, so the kernel holds little for it.
        Socket slow = new Socket();
        sockets.add(slow);
        slow.setReceiveBufferSize(8 * 1024);
        slow.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        slow.setSoTimeout(10_000);
        InputStream slowIn = slow.getInputStream();
        String slowWelcome = readLine(slowIn);
        String slowName = slowWelcome.substring("* welcome, you are ".length(), slowWelcome.indexOf(';'));

        Member a = join();
        Member b = join();
        assertEquals("* " + b.name() + " joined", a.line());

        String dropped = "* " + slowName + " left (too slow)";
        List<String> seenByB = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<String> lastSeenByB = new AtomicReference<>();
        AtomicBoolean droppedSeenByB = new AtomicBoolean();
        pool = Executors.newFixedThreadPool(1);
        // Buffered: RawClient reads a byte per system call, too slow for thousands of lines.
        BufferedReader bIn = new BufferedReader(
                new InputStreamReader(b.client().socket().getInputStream(), StandardCharsets.UTF_8));
        Future<?> reader = pool.submit(() -> {
            String line;
            while ((line = bIn.readLine()) != null) {
                seenByB.add(line);
                lastSeenByB.set(line);
                if (line.equals(dropped)) {
                    droppedSeenByB.set(true);
                }
                if (line.equals(a.name() + ": the end")) {
                    return null;
                }
            }
            throw new AssertionError("B's connection closed");
        });

        String padding = "p".repeat(900);
        OutputStream aOut = a.client().socket().getOutputStream();
        int sentLines = 0;
        while (!droppedSeenByB.get()) {
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 50; i++, sentLines++) {
                batch.append("line ").append(sentLines).append(' ').append(padding).append('\n');
            }
            aOut.write(batch.toString().getBytes(StandardCharsets.UTF_8));
            aOut.flush();
            // B keeps up with A while the slow client falls behind; no more than the kernel's buffers
            // (4 MiB here) plus the 64 KiB limit can go to the slow client before it is dropped.
            String last = a.name() + ": line " + (sentLines - 1) + " " + padding;
            Await.until("B to receive A's lines", () -> last.equals(lastSeenByB.get()) || droppedSeenByB.get());
            assertTrue(sentLines < 30_000, "the slow client was never dropped");
        }
        a.say("the end");
        reader.get(10, TimeUnit.SECONDS);
        assertEquals(dropped, a.line(), "the sender sees the slow client leave");

        List<String> expected = new ArrayList<>();
        for (int i = 0; i < sentLines; i++) {
            expected.add(a.name() + ": line " + i + " " + padding);
        }
        expected.add(a.name() + ": the end");
        List<String> chat = new ArrayList<>(seenByB);
        assertTrue(chat.remove(dropped));
        assertEquals(expected, chat, "B missed or reordered lines");

        // The slow client finally reads: joins, then lines in order without a gap, then the reason, then EOF.
        String[] got = new String(slowIn.readAllBytes(), StandardCharsets.UTF_8).split("\n");
        slow.close();
        assertEquals("* " + a.name() + " joined", got[0]);
        assertEquals("* " + b.name() + " joined", got[1]);
        assertEquals("* dropped: you fell more than 65536 bytes behind", got[got.length - 1]);
        List<String> backlog = Arrays.asList(got).subList(2, got.length - 1);
        assertTrue(backlog.size() > 0 && backlog.size() < sentLines, "backlog of " + backlog.size() + " lines");
        assertEquals(expected.subList(0, backlog.size()), backlog);
    }

    private static String readLine(InputStream in) throws Exception {
        StringBuilder line = new StringBuilder();
        int ch;
        while ((ch = in.read()) >= 0 && ch != '\n') {
            line.append((char) ch);
        }
        return line.toString();
    }

    /** server.stop() tells every chat connection before closing it. */
    @Test
    void theServerSaysGoodbyeWhenItStops() throws Exception {
        start(new ChatProtocol());
        Member a = join();
        server.stop();
        assertEquals("* server shutting down, goodbye", a.line());
        assertNull(a.line());
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
    }

    /** The chat's own idle timeout replaces the server's; when it passes the client is told and closed. */
    @Test
    void anIdleClientIsToldAndClosed() {
        start(ChatProtocol.builder().idleTimeout(Duration.ofMillis(200)).build());
        Member a = join();
        assertEquals("* idle too long, closing", a.line());
        assertNull(a.line());
    }
}
