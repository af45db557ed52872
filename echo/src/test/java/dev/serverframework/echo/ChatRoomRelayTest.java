package dev.serverframework.echo;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two chat instances, simulated by two servers with a room each on one shared {@link PubSub}: rooms relayed on
 * the same channel are one room, each line reaching every member once, in its sender's order.
 */
class ChatRoomRelayTest {
    private PubSub pubSub;
    private Server a;
    private Server b;
    private final List<RawClient> clients = new ArrayList<>();
    /** Servers a test starts besides a and b, stopped after it whatever happened. */
    private final List<Server> extra = new ArrayList<>();

    @BeforeEach
    void start() {
        pubSub = PubSub.inProcess();
        a = start(ChatRoom.builder().channel("chat").build());
        b = start(ChatRoom.builder().channel("chat").build());
    }

    private Server start(ChatRoom room) {
        return Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).pubSub(pubSub)
                .protocol(ChatProtocol.builder().room(room).build()).build().start();
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(RawClient::close);
        a.stop();
        b.stop();
        extra.forEach(Server::stop);
        a.awaitTermination();
        b.awaitTermination();
        for (Server s : extra) {
            s.awaitTermination();
        }
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

    /** A line client: connects, reads its welcome, returns it with its name. */
    private Member join(Server server) {
        RawClient c = new RawClient(server.port());
        clients.add(c);
        String welcome = c.readLine();
        assertTrue(welcome.startsWith("* welcome, you are guest-"), welcome);
        return new Member(c, welcome.substring("* welcome, you are ".length(), welcome.indexOf(';')));
    }

    @Test
    void whenOneOfTheRoomsServersStopsTheRelayGoesOnOnAnother() throws Exception {
        // Instance A has two servers in one room, as the chat command's line and web servers are.
        ChatRoom roomA = ChatRoom.builder().channel("chat").build();
        Server a1 = start(roomA);
        Server a2 = start(roomA);
        extra.add(a1);
        extra.add(a2);
        Member first = join(a1); // the relay receives on a worker of a1
        Member onA2 = join(a2);
        assertEquals("* " + onA2.name() + " joined", first.line());
        Member onB = join(b);
        assertEquals("* " + onB.name() + " joined", onA2.line());
        a1.stop();
        assertTrue(a1.awaitTermination(java.time.Duration.ofSeconds(10)));
        assertEquals("* " + first.name() + " left", onA2.line());
        // The relay received on a worker of a1; it goes on on one of a2, at once, with nothing said on A.
        assertEquals("* " + first.name() + " left", onB.line());
        onB.say("still there?");
        assertEquals(onB.name() + ": still there?", onA2.line());
    }

    @Test
    void aLineSaidOnOneInstanceReachesTheOtherAndBackOnce() {
        Member alice = join(a);
        Member bob = join(b);
        assertEquals("* " + bob.name() + " joined", alice.line());
        alice.say("hello from A");
        assertEquals(alice.name() + ": hello from A", bob.line());
        bob.say("hello from B");
        // alice's next line is bob's: her own line did not come back to her through the relay
        assertEquals(bob.name() + ": hello from B", alice.line());
        Member carol = join(a);
        assertEquals("* " + carol.name() + " joined", alice.line());
        assertEquals("* " + carol.name() + " joined", bob.line());
        bob.say("to both");
        assertEquals(bob.name() + ": to both", alice.line());
        assertEquals(bob.name() + ": to both", carol.line());
        alice.say("once");
        assertEquals(alice.name() + ": once", carol.line());
        assertEquals(alice.name() + ": once", bob.line());
        carol.say("and carol");
        // each got alice's line exactly once: the next line is carol's
        assertEquals(carol.name() + ": and carol", bob.line());
        assertEquals(carol.name() + ": and carol", alice.line());
    }

    @Test
    void joinsNicknamesAndLeavesTravel() {
        Member alice = join(a);
        Member bob = join(b);
        assertEquals("* " + bob.name() + " joined", alice.line());
        alice.say("/nick alice");
        assertEquals("* you are now alice", alice.line());
        assertEquals("* " + alice.name() + " is now known as alice", bob.line());
        bob.say("/quit");
        assertEquals("* bye", bob.line());
        assertEquals("* " + bob.name() + " left", alice.line());
        Member dave = join(b);
        assertEquals("* " + dave.name() + " joined", alice.line());
        alice.say("/quit");
        assertEquals("* bye", alice.line());
        assertEquals("* alice left", dave.line());
    }

    @Test
    void membersOfTwoInstancesConverseInOrder() {
        Member alice = join(a);
        Member bob = join(b);
        // Bob's join crosses instances, carol's does not: only one sender's lines keep their order, so
        // carol joins once alice has seen bob.
        assertEquals("* " + bob.name() + " joined", alice.line());
        Member carol = join(a);
        assertEquals("* " + carol.name() + " joined", alice.line());
        assertEquals("* " + carol.name() + " joined", bob.line());
        int n = 200;
        StringBuilder fromAlice = new StringBuilder();
        StringBuilder fromBob = new StringBuilder();
        for (int i = 0; i < n; i++) {
            fromAlice.append("a").append(i).append('\n');
            fromBob.append("b").append(i).append('\n');
        }
        alice.client().send(fromAlice.toString());
        bob.client().send(fromBob.toString());
        for (int i = 0; i < n; i++) {
            assertEquals(alice.name() + ": a" + i, bob.line());
            assertEquals(bob.name() + ": b" + i, alice.line());
        }
        // carol, on alice's instance, gets both, interleaved, each sender's lines in their order
        Map<String, Integer> next = new HashMap<>();
        for (int i = 0; i < 2 * n; i++) {
            String line = carol.line();
            String sender = line.substring(0, line.indexOf(':'));
            int number = Integer.parseInt(line.substring(line.indexOf(": ") + 3));
            int expected = next.getOrDefault(sender, 0);
            assertEquals(expected, number, line);
            next.put(sender, expected + 1);
        }
        assertEquals(Map.of(alice.name(), n, bob.name(), n), next);
    }
}
