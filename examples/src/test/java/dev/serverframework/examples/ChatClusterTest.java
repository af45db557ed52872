package dev.serverframework.examples;

import dev.serverframework.core.PubSubEngine;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chat instances clustered through a real redis-server, as users deploy them: three instances (each
 * {@code chat --redis URI} in this JVM with its own Redis engine and links, so that a test can count each
 * one's members), Redis stopped and restarted under them, nginx in front of them, and two processes sharing
 * one port with SO_REUSEPORT.
 */
class ChatClusterTest {
    private static final Pattern GUEST = Pattern.compile("you are (guest-\\d+)");

    private RedisServerProcess redis;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void redisServerIsInstalled() {
        RedisServerProcess.assumeInstalled();
    }

    @BeforeEach
    void startRedis() throws IOException {
        redis = RedisServerProcess.start();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        redis.close();
    }

    private <T extends AutoCloseable> T keep(T closeable) {
        open.add(closeable);
        return closeable;
    }

    /** Three instances on the test's Redis, each connected to it. */
    private List<ChatServers> threeInstances() {
        List<ChatServers> instances = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            instances.add(keep(ChatServers.start("--redis", redis.uri())));
        }
        for (ChatServers c : instances) {
            Await.until("an instance connects to Redis", Duration.ofSeconds(10),
                    () -> c.lines.pubSub().state() == PubSubEngine.State.CONNECTED);
        }
        return instances;
    }

    /** A member on {@code port} who has read its welcome and taken {@code name}. */
    private LineReader member(int port, String name) throws InterruptedException {
        LineReader m = keep(new LineReader(port));
        m.awaitStartingWith("* welcome");
        m.say("/nick " + name).awaitStartingWith("* you are now " + name);
        return m;
    }

    @Test
    void threeInstancesOnOneRedisAreOneRoomWithEachSendersLinesInOrder() throws Exception {
        List<ChatServers> instances = threeInstances();
        LineReader alice = member(instances.get(0).lines.port(), "alice");
        LineReader bob = member(instances.get(1).lines.port(), "bob");
        LineReader carol = member(instances.get(2).lines.port(), "carol");
        Await.until("each instance's room subscribes in Redis", () -> redis.subscribers("chat") == 3);

        for (int i = 0; i < 50; i++) {
            alice.say("line " + i);
            carol.say("word " + i);
        }
        for (LineReader r : List.of(bob, carol)) {
            for (int i = 0; i < 50; i++) {
                assertEquals("alice: line " + i, r.awaitStartingWith("alice: "));
            }
        }
        for (LineReader r : List.of(alice, bob)) {
            for (int i = 0; i < 50; i++) {
                assertEquals("carol: word " + i, r.awaitStartingWith("carol: "));
            }
        }
        bob.say("hello from the middle");
        assertEquals("bob: hello from the middle", alice.awaitStartingWith("bob: "));
        assertEquals("bob: hello from the middle", carol.awaitStartingWith("bob: "));

        // Joins and leaves cross too; /who stays with the instance asked.
        LineReader dave = keep(new LineReader(instances.get(2).lines.port()));
        String daveName = guestName(dave.awaitStartingWith("* welcome"));
        alice.await(("* " + daveName + " joined")::equals, "announcing " + daveName + "'s join");
        carol.say("/who");
        assertEquals("* 2 online: carol, " + daveName, carol.awaitStartingWith("* 2 online"));
        dave.close();
        bob.await(("* " + daveName + " left")::equals, "announcing " + daveName + "'s leave");
        assertTrue(instances.get(0).lines.pubSub().received() > 0);
        assertEquals(0, instances.get(0).lines.pubSub().dropped());
    }

    @Test
    void withRedisGoneEachInstanceChatsOnItsOwnAndAllAreOneRoomAgainSoonAfterItReturns() throws Exception {
        List<ChatServers> instances = threeInstances();
        LineReader alice = member(instances.get(0).lines.port(), "alice");
        LineReader ann = member(instances.get(0).lines.port(), "ann");
        LineReader bob = member(instances.get(1).lines.port(), "bob");
        // A room subscribes when its first member joins: the third instance has none.
        Await.until("the rooms subscribe in Redis", () -> redis.subscribers("chat") == 2);

        redis.stop();
        for (ChatServers c : instances) {
            Await.until("an instance sees Redis gone", Duration.ofSeconds(10),
                    () -> c.lines.pubSub().state() == PubSubEngine.State.DISCONNECTED);
        }
        // Local delivery goes on; what could not cross is counted, and the instance answers at once.
        alice.say("anyone here?");
        assertEquals("alice: anyone here?", ann.awaitStartingWith("alice: "));
        Await.until("the line that could not cross is counted as dropped",
                () -> instances.get(0).lines.pubSub().dropped() > 0);
        alice.say("/who");
        assertEquals("* 2 online: alice, ann", alice.awaitStartingWith("* 2 online"));
        assertNull(bob.poll(l -> l.startsWith("alice: "), Duration.ofMillis(200)), "nothing crossed while down");

        redis.restart();
        long back = System.nanoTime();
        // Each instance's two links come back on their own: a line published before its instance's link is
        // up is dropped (at most once), so each direction is probed until a line crosses.
        probeUntilCrossed(alice, "alice", bob);
        probeUntilCrossed(bob, "bob", alice);
        // How fast is measured by hand and by bench pubsub, not asserted: on a loaded machine it varies.
        System.out.println("lines crossed both ways again " + Duration.ofNanos(System.nanoTime() - back).toMillis()
                + " ms after Redis answered");
        for (ChatServers c : instances) {
            Await.until("every instance connected again", Duration.ofSeconds(20),
                    () -> c.lines.pubSub().state() == PubSubEngine.State.CONNECTED);
        }
    }

    /** Has {@code from} say numbered probes until {@code to} reads one, within 20 s. */
    private static void probeUntilCrossed(LineReader from, String nick, LineReader to) throws Exception {
        long start = System.nanoTime();
        String crossed = null;
        for (int probe = 0; crossed == null && System.nanoTime() - start < Duration.ofSeconds(20).toNanos(); probe++) {
            from.say("probe " + probe);
            crossed = to.poll(l -> l.startsWith(nick + ": probe"), Duration.ofMillis(100));
        }
        assertNotNull(crossed, "no line from " + nick + " crossed within 20 s of Redis answering again");
    }

    @Test
    void membersConnectedThroughNginxToDifferentInstancesChatWithEachOther() throws Exception {
        NginxProcess.assumeInstalled();
        List<ChatServers> instances = threeInstances();
        int linePort = RedisServerProcess.freePort();
        int webPort = RedisServerProcess.freePort();
        NginxProcess nginx = keep(NginxProcess.start("examples/cluster/nginx.conf", Map.of(
                "LINE_PORT", Integer.toString(linePort), "WEB_PORT", Integer.toString(webPort),
                "LINE_PORT_1", Integer.toString(instances.get(0).lines.port()),
                "LINE_PORT_2", Integer.toString(instances.get(1).lines.port()),
                "LINE_PORT_3", Integer.toString(instances.get(2).lines.port()),
                "WEB_PORT_1", Integer.toString(instances.get(0).web.port()),
                "WEB_PORT_2", Integer.toString(instances.get(1).web.port()),
                "WEB_PORT_3", Integer.toString(instances.get(2).web.port())), List.of(linePort, webPort)));

        // Line clients: nginx's stream proxy deals them round-robin, one to each instance.
        List<LineReader> lines = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            lines.add(member(linePort, "line" + i));
        }
        for (ChatServers c : instances) {
            assertEquals(1, c.lines.count("chat"), "line members per instance, nginx's log:\n" + nginx.log());
        }
        // Browsers: spread by a random key until two sit on different instances.
        URI ws = URI.create("ws://127.0.0.1:" + webPort + "/chat/ws");
        List<WsClient> browsers = new ArrayList<>();
        List<Integer> seats = new ArrayList<>();
        for (int i = 0; i < 20 && seats.stream().distinct().count() < 2; i++) {
            int[] before = webCounts(instances);
            WsClient b = WsClient.connect(ws);
            open.add(b);
            assertTrue(b.line().startsWith("* welcome"));
            // The welcome is out, so the member is seated: one instance counts one more.
            int[] after = webCounts(instances);
            int seat = -1;
            for (int k = 0; k < 3; k++) {
                if (after[k] > before[k]) {
                    seat = k;
                }
            }
            assertTrue(seat >= 0, "the browser's instance: before " + java.util.Arrays.toString(before)
                    + ", after " + java.util.Arrays.toString(after));
            browsers.add(b);
            seats.add(seat);
        }
        assertTrue(seats.stream().distinct().count() >= 2, "browsers on instances " + seats);
        Await.until("each instance's room subscribes in Redis", () -> redis.subscribers("chat") == 3);

        lines.get(0).say("hello browsers");
        for (WsClient b : browsers) {
            assertEquals("line0: hello browsers", awaitWs(b, "line0: "));
        }
        assertEquals("line0: hello browsers", lines.get(2).awaitStartingWith("line0: "));
        WsClient last = browsers.get(browsers.size() - 1);
        last.send("/nick web");
        last.send("hello lines");
        for (LineReader l : lines) {
            assertEquals("web: hello lines", l.awaitStartingWith("web: "));
        }
        assertEquals("web: hello lines", awaitWs(browsers.get(0), "web: "));
    }

    @Test
    void twoProcessesOnOnePortWithReusePortShareOneRoom() throws Exception {
        int port = RedisServerProcess.freePort();
        List<ChildCommand> processes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            processes.add(keep(ChildCommand.startOnPort(port, "chat", "--reuse-port", "--http-port", "0",
                    "--redis", redis.uri())));
        }
        LineReader first = member(port, "first");
        // The kernel spreads connections over both processes' sockets: /who tells on which one a member sits.
        LineReader other = null;
        String otherName = null;
        for (int i = 0; i < 40 && other == null; i++) {
            LineReader m = member(port, "m" + i);
            m.say("/who");
            if (!m.awaitStartingWith("* ").contains("first")) {
                other = m;
                otherName = "m" + i;
            }
        }
        assertNotNull(other, "no connection reached the second process; logs:\n" + processes.get(0).log()
                + "\n" + processes.get(1).log());
        Await.until("both processes' rooms subscribe in Redis", () -> redis.subscribers("chat") == 2);
        first.say("across the port");
        assertEquals("first: across the port", other.awaitStartingWith("first: "));
        other.say("and back");
        assertEquals(otherName + ": and back", first.awaitStartingWith(otherName + ": "));
    }

    private static int[] webCounts(List<ChatServers> instances) {
        int[] counts = new int[instances.size()];
        for (int k = 0; k < counts.length; k++) {
            counts[k] = instances.get(k).web.count("chat");
        }
        return counts;
    }

    private static String awaitWs(WsClient client, String prefix) throws InterruptedException {
        while (true) {
            String line = client.line();
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    private static String guestName(String welcome) {
        Matcher m = GUEST.matcher(welcome);
        assertTrue(m.find(), welcome);
        return m.group(1);
    }
}
