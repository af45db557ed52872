package dev.serverframework.echo;

import dev.serverframework.core.Protocol;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The room shared by servers and transports: one room across two servers, one order of lines for every
 * member, and a member that loses its connection and comes back (the web chat's SSE streams) getting what
 * it missed exactly once.
 */
class ChatRoomTest {
    private final List<Server> servers = new ArrayList<>();
    private final List<RawClient> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        clients.forEach(RawClient::close);
        for (Server s : servers) {
            s.stop();
        }
        for (Server s : servers) {
            s.awaitTermination();
        }
    }

    private Server start(Protocol<?> protocol) {
        Server s = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).protocol(protocol).build().start();
        servers.add(s);
        return s;
    }

    private RawClient connect(Server server) {
        RawClient c = new RawClient(server.port());
        clients.add(c);
        return c;
    }

    /** A line client: connects, reads its welcome, returns it with its name. */
    private Member lineClient(Server server) {
        RawClient c = connect(server);
        String welcome = c.readLine();
        assertTrue(welcome.startsWith("* welcome, you are guest-"), welcome);
        return new Member(c, welcome.substring("* welcome, you are ".length(), welcome.indexOf(';')));
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

    /** A line of the resumable transport: {@code POSITION TEXT}. */
    private record Positioned(long position, String text) {
        static Positioned of(String line) {
            assertTrue(line != null && line.indexOf(' ') > 0, "not a positioned line: " + line);
            int space = line.indexOf(' ');
            return new Positioned(Long.parseLong(line.substring(0, space)), line.substring(space + 1));
        }
    }

    private static Positioned read(RawClient c) {
        return Positioned.of(c.readLine());
    }

    /** A client of the resumable transport that joins anew; returns its name. */
    private String joinResumable(RawClient c) {
        c.send("new\n");
        String welcome = read(c).text();
        assertTrue(welcome.startsWith("* welcome, you are guest-"), welcome);
        return welcome.substring("* welcome, you are ".length(), welcome.indexOf(';'));
    }

    @Test
    void membersOfTwoServersAreInOneRoom() {
        ChatRoom room = new ChatRoom();
        Server one = start(ChatProtocol.builder().room(room).build());
        Server two = start(ChatProtocol.builder().room(room).build());
        Member a = lineClient(one);
        Member b = lineClient(two);
        assertEquals("* " + b.name() + " joined", a.line());

        a.say("hello");
        assertEquals(a.name() + ": hello", b.line());
        b.say("/nick bob");
        assertEquals("* you are now bob", b.line());
        assertEquals("* " + b.name() + " is now known as bob", a.line());
        a.say("/nick bob");
        assertEquals("error: nickname bob is taken", a.line());
        a.say("/who");
        List<String> names = new ArrayList<>(List.of("bob", a.name()));
        names.sort(null);
        assertEquals("* 2 online: " + String.join(", ", names), a.line());
        assertEquals(names, room.names());

        b.say("/quit");
        assertEquals("* bye", b.line());
        assertNull(b.line());
        assertEquals("* bob left", a.line());
    }

    /**
     * Three members on two servers talk at once; every member receives the lines in one order, the same for
     * all (what each does not receive is its own lines).
     */
    @Test
    void everyMemberReceivesTheLinesInOneOrder() throws Exception {
        ChatRoom room = new ChatRoom();
        Server one = start(ChatProtocol.builder().room(room).build());
        Server two = start(ChatProtocol.builder().room(room).build());
        List<Member> talkers = List.of(lineClient(one), lineClient(two), lineClient(one));
        Member quiet = lineClient(two);
        int perTalker = 300;
        // Each talker's lines in one write, all three at once, so that the broadcasts interleave.
        List<Thread> threads = new ArrayList<>();
        for (Member t : talkers) {
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < perTalker; i++) {
                batch.append("line ").append(i).append('\n');
            }
            Thread sender = new Thread(() -> t.client().send(batch.toString()), "talker " + t.name());
            sender.start();
            threads.add(sender);
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        Pattern chat = Pattern.compile("guest-\\d+: line \\d+");
        List<String> all = chatLines(quiet, chat, 3 * perTalker);
        for (Member t : talkers) {
            List<String> expected = all.stream().filter(l -> !l.startsWith(t.name() + ":")).toList();
            assertEquals(expected, chatLines(t, chat, 2 * perTalker), "the order " + t.name() + " saw");
        }
    }

    private static List<String> chatLines(Member m, Pattern chat, int count) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(m.client().socket().getInputStream(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        while (lines.size() < count) {
            String line = in.readLine();
            assertTrue(line != null, m.name() + "'s connection closed after " + lines.size() + " lines");
            if (chat.matcher(line).matches()) {
                lines.add(line);
            }
        }
        return lines;
    }

    /**
     * A member whose connection drops keeps its name and nobody hears it left; when it comes back it gets a
     * welcome back, then the lines it missed, once each and in order, then the live lines, none twice.
     */
    @Test
    void aMemberThatComesBackGetsWhatItMissedExactlyOnce() {
        ChatRoom room = new ChatRoom();
        Server lines = start(ChatProtocol.builder().room(room).build());
        Server resumable = start(new ResumableLineProtocol(room));
        Member t = lineClient(lines);
        RawClient r = connect(resumable);
        String name = joinResumable(r);
        assertEquals("* " + name + " joined", t.line());

        t.say("one");
        Positioned one = read(r);
        assertEquals(t.name() + ": one", one.text());
        r.send("mine\n");
        Positioned mine = read(r);
        assertEquals(name + ": mine", mine.text(), "the resumable transport gets its own lines back");
        assertTrue(mine.position() > one.position());
        assertEquals(name + ": mine", t.line());

        r.close();
        Await.until("the resumable connection to close", () -> resumable.count(ChatRoom.SERVICE) == 0);
        t.say("two").say("three").say("/who");
        List<String> names = new ArrayList<>(List.of(name, t.name()));
        names.sort(null);
        // No "left" line came before the answer: an away member is still in the room.
        assertEquals("* 2 online: " + String.join(", ", names), t.line());

        RawClient back = connect(resumable);
        back.send("resume " + name + " " + mine.position() + "\n");
        Positioned welcome = read(back);
        assertEquals(new Positioned(mine.position(), "* welcome back, you are " + name), welcome);
        Positioned two = read(back);
        Positioned three = read(back);
        assertEquals(t.name() + ": two", two.text());
        assertEquals(t.name() + ": three", three.text());
        assertTrue(mine.position() < two.position() && two.position() < three.position(), two + " " + three);
        t.say("four");
        assertEquals(new Positioned(three.position() + 1, t.name() + ": four"), read(back));
        back.send("/who\n");
        assertEquals("* 2 online: " + String.join(", ", names), read(back).text(), "nothing came twice");
        assertTrue(t.client().send("/who\n").readLine().startsWith("* 2 online"), "and nobody was told of it");
    }

    /** The history keeps the last lines only: a member away for longer is told it missed some. */
    @Test
    void aMemberAwayForLongerThanTheHistoryIsToldItMissedLines() {
        ChatRoom room = ChatRoom.builder().history(2).build();
        Server lines = start(ChatProtocol.builder().room(room).build());
        Server resumable = start(new ResumableLineProtocol(room));
        Member t = lineClient(lines);
        RawClient r = connect(resumable);
        String name = joinResumable(r);
        assertEquals("* " + name + " joined", t.line());
        t.say("zero");
        long seen = read(r).position();
        r.close();
        Await.until("the resumable connection to close", () -> resumable.count(ChatRoom.SERVICE) == 0);
        for (int i = 1; i <= 5; i++) {
            t.say("line " + i);
        }
        t.say("/who");
        assertTrue(t.line().startsWith("* 2 online"));

        RawClient back = connect(resumable);
        back.send("resume " + name + " " + seen + "\n");
        assertEquals("* welcome back, you are " + name, read(back).text());
        assertEquals(new Positioned(seen, "* some lines were missed while you were away"), read(back));
        assertEquals(t.name() + ": line 4", read(back).text());
        assertEquals(t.name() + ": line 5", read(back).text());
        back.send("/who\n");
        assertTrue(read(back).text().startsWith("* 2 online"));
    }

    /** An away member that does not come back in time leaves: announced, name freed, no way back. */
    @Test
    void anAwayMemberThatDoesNotComeBackLeaves() throws Exception {
        ChatRoom room = new ChatRoom();
        Server lines = start(ChatProtocol.builder().room(room).build());
        ResumableLineProtocol protocol = new ResumableLineProtocol(room);
        Server resumable = start(protocol);
        Member t = lineClient(lines);
        RawClient r = connect(resumable);
        String name = joinResumable(r);
        assertEquals("* " + name + " joined", t.line());
        r.close();
        Await.until("the resumable connection to close", () -> resumable.count(ChatRoom.SERVICE) == 0);

        assertTrue(protocol.expire(name));
        assertEquals("* " + name + " left", t.line());
        assertEquals(List.of(t.name()), room.names());
        RawClient back = connect(resumable);
        back.send("resume " + name + " 0\n");
        assertEquals("0 no such member", back.readLine());
    }

    /**
     * A member that comes back while its old connection is still open (its client saw the connection fail
     * first) takes over: the old connection is closed, and nobody hears of a leave.
     */
    @Test
    void comingBackWhileStillConnectedTakesOver() {
        ChatRoom room = new ChatRoom();
        Server lines = start(ChatProtocol.builder().room(room).build());
        Server resumable = start(new ResumableLineProtocol(room));
        Member t = lineClient(lines);
        RawClient r = connect(resumable);
        String name = joinResumable(r);
        assertEquals("* " + name + " joined", t.line());
        t.say("hi");
        long seen = read(r).position();

        RawClient back = connect(resumable);
        back.send("resume " + name + " " + seen + "\n");
        assertEquals(new Positioned(seen, "* welcome back, you are " + name), read(back));
        assertNull(r.readLine(), "the old connection is closed");
        t.say("still here?");
        assertEquals(t.name() + ": still here?", read(back).text());
        back.send("yes\n");
        assertEquals(name + ": yes", t.line(), "no leave line came before");
    }

    /**
     * The room's line limit holds for transports that do not frame lines by it (a WebSocket message, a POST):
     * counted in bytes of UTF-8; over it, an error and the member leaves. Empty lines are ignored.
     */
    @Test
    void aLineOverTheRoomsLimitGetsAnErrorAndTheMemberLeaves() {
        ChatRoom room = ChatRoom.builder().maxLineLength(10).build();
        Server lines = start(ChatProtocol.builder().room(room).build());
        Server resumable = start(new ResumableLineProtocol(room));
        Member t = lineClient(lines);
        RawClient r = connect(resumable);
        String name = joinResumable(r);
        assertEquals("* " + name + " joined", t.line());

        // Several lines in one message, empty ones among them; five two-byte letters are the 10 bytes allowed.
        r.send("a||" + "é".repeat(5) + "|\n");
        assertEquals(name + ": a", t.line());
        assertEquals(name + ": " + "é".repeat(5), t.line());
        // The sender's own lines come back through its queue; a reply to input that arrives while they are
        // still being queued may overtake them, so the next message waits for them.
        assertEquals(name + ": a", read(r).text());
        assertEquals(name + ": " + "é".repeat(5), read(r).text());
        r.send("é".repeat(6) + "\n");
        assertEquals("error: line longer than 10 bytes", read(r).text());
        assertNull(r.readLine());
        assertEquals("* " + name + " left", t.line());
    }

    /** With a room given, the line protocol's decoder uses the room's limit; setting another fails fast. */
    @Test
    void theLineProtocolTakesItsLimitFromTheRoom() {
        ChatRoom room = ChatRoom.builder().maxLineLength(8).build();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ChatProtocol.builder().room(room).maxLineLength(5).build());
        assertTrue(e.getMessage().startsWith("maxLineLength"), e.getMessage());

        Member a = lineClient(start(ChatProtocol.builder().room(room).build()));
        a.say("x".repeat(9));
        assertEquals("error: line longer than 8 bytes", a.line());
        assertNull(a.line());
    }
}
