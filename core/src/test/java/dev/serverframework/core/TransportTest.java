package dev.serverframework.core;

import dev.serverframework.core.internal.TransportSupport;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Which transport a server runs on, the property that overrides the setting, SO_REUSEPORT listeners, bind
 * failures. The build runs this suite once per transport with the property set; these tests take the
 * property away while they run, so that each sees the setting it asks for, and put it back after.
 */
class TransportTest {
    private final List<Server> servers = new ArrayList<>();
    /** The property this run of the suite was started with, or null. */
    private String ambient;

    @BeforeEach
    void clearTransportProperty() {
        ambient = System.clearProperty(Transport.PROPERTY);
    }

    @AfterEach
    void stopServers() throws InterruptedException {
        try {
            for (Server s : servers) {
                s.stop();
                s.awaitTermination();
            }
        } finally {
            if (ambient != null) {
                System.setProperty(Transport.PROPERTY, ambient);
            }
        }
    }

    private static ServerBuilder local() {
        return Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .protocol(new LineProtocol("echo", (c, line) -> c.write(line + "\n")));
    }

    private Server build(ServerBuilder b) {
        Server s = b.build();
        servers.add(s);
        return s;
    }

    private static void assertEchoes(Server server, String text) {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals(text, c.send(text + "\n").readLine());
        }
    }

    /** Skips the test, saying why, where {@code transport} cannot run. */
    private static void assumeAvailable(Transport transport) {
        assumeTrue(TransportSupport.isAvailable(transport),
                () -> transport + " is unavailable here: " + TransportSupport.unavailabilityReason(transport));
    }

    /** Runs {@code body} with the transport system property set to {@code value}, restoring it after. */
    private static void withTransportProperty(String value, Runnable body) {
        String previous = System.getProperty(Transport.PROPERTY);
        System.setProperty(Transport.PROPERTY, value);
        try {
            body.run();
        } finally {
            if (previous == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, previous);
            }
        }
    }

    @Test
    void defaultTransportIsEpollOnLinux() {
        assertNull(System.getProperty(Transport.PROPERTY), "the transport property must not be set for this test");
        assertTrue(Epoll.isAvailable(), "native epoll should load on this Linux machine: " + Epoll.unavailabilityCause());
        Server server = build(local());
        assertNull(server.transport(), "no transport before start");
        server.start();
        assertEquals(Transport.EPOLL, server.transport());
        assertEchoes(server, "over epoll");
    }

    @Test
    void nioSettingGivesNioAndWorksEndToEnd() {
        Server server = build(local().transport(Transport.NIO)).start();
        assertEquals(Transport.NIO, server.transport());
        assertEchoes(server, "over nio");
        assertEchoes(server, "again over nio");
    }

    @Test
    void ioUringSettingGivesIoUringAndWorksEndToEnd() {
        assumeAvailable(Transport.IO_URING);
        Server server = build(local().transport(Transport.IO_URING)).start();
        assertEquals(Transport.IO_URING, server.transport());
        assertEchoes(server, "over io_uring");
        assertEchoes(server, "again over io_uring");
    }

    /**
     * The property that makes the build's io_uring run of the suites: with it, a server built with the
     * default setting really runs on io_uring (no silent fallback), so that run tests io_uring.
     */
    @Test
    void propertyAsksForIoUringAndTheServerRunsOnIt() {
        assumeAvailable(Transport.IO_URING);
        withTransportProperty("io_uring", () -> {
            Server server = build(local()).start();
            assertEquals(Transport.IO_URING, server.transport());
            assertEchoes(server, "asked for io_uring");
        });
    }

    /**
     * The transport this run of the suite was started for is the one its servers run on, so a run meant
     * for a transport cannot silently test another. Skipped, with the cause, where io_uring is refused.
     */
    @Test
    void thisRunOfTheSuiteRunsOnTheTransportItAsksFor() {
        String asked = ambient == null ? "auto" : ambient.trim().toLowerCase(Locale.ROOT);
        Transport expected;
        switch (asked) {
            case "nio":
                expected = Transport.NIO;
                break;
            case "io_uring":
                assumeAvailable(Transport.IO_URING);
                expected = Transport.IO_URING;
                break;
            default:
                expected = Transport.EPOLL;
        }
        withTransportProperty(asked, () -> {
            Server server = build(local()).start();
            assertEquals(expected, server.transport(), "property " + Transport.PROPERTY + "=" + ambient);
            assertEchoes(server, "on " + asked);
        });
    }

    @Test
    void propertyForcesNioWhenTheSettingSaysAuto() {
        withTransportProperty("nio", () -> {
            Server server = build(local().transport(Transport.AUTO)).start();
            assertEquals(Transport.NIO, server.transport());
            assertEchoes(server, "forced nio");
        });
        assertNull(System.getProperty(Transport.PROPERTY));
    }

    @Test
    void propertyForcesNioEvenWhenTheSettingSaysEpoll() {
        withTransportProperty("NIO", () -> {
            Server server = build(local().transport(Transport.EPOLL)).start();
            assertEquals(Transport.NIO, server.transport());
            assertEchoes(server, "forced nio");
        });
    }

    @Test
    void invalidPropertyValueFailsNamingTheProperty() {
        withTransportProperty("carrier-pigeon", () -> {
            Server server = build(local());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, server::start);
            assertTrue(e.getMessage().contains(Transport.PROPERTY), e.getMessage());
            assertTrue(e.getMessage().contains("carrier-pigeon"), e.getMessage());
            assertFalse(server.isRunning());
        });
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void threeListenersOnANativeTransportAreThreeReusePortSocketsOnOnePort(Transport transport) throws IOException {
        assumeAvailable(transport);
        Server server = build(local().transport(transport).listeners(3).ioThreads(3).workers(2)).start();
        assertEquals(transport, server.transport());
        int port = server.port();
        assertTrue(port > 0);

        // The kernel sees three listening sockets bound to 127.0.0.1 and the one port.
        assertEquals(3, listeningSockets(port), "LISTEN sockets on 127.0.0.1:" + port + " in /proc/net/tcp");

        // Many clients at once: every one is accepted (by whichever socket the kernel picks) and served.
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 60; i++) {
                clients.add(new RawClient(port));
            }
            for (int i = 0; i < clients.size(); i++) {
                clients.get(i).send("client " + i + "\n");
            }
            for (int i = 0; i < clients.size(); i++) {
                assertEquals("client " + i, clients.get(i).readLine());
            }
            assertEquals(60, server.count(null));
        } finally {
            clients.forEach(RawClient::close);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void twoServersWithReusePortShareOnePortAndBothServe(Transport transport) throws IOException {
        assumeAvailable(transport);
        Server first = build(local().transport(transport).reusePort(true)).start();
        Server second = build(local().transport(transport).reusePort(true).port(first.port())).start();
        assertEquals(first.port(), second.port());
        assertEquals(2, listeningSockets(first.port()), "LISTEN sockets on 127.0.0.1:" + first.port());

        // The kernel spreads connections over both: with enough of them, each server gets some.
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 64 && (first.count(null) == 0 || second.count(null) == 0); i++) {
                RawClient c = new RawClient(first.port());
                clients.add(c);
                c.send("client " + i + "\n");
                assertEquals("client " + i, c.readLine());
            }
            assertTrue(first.count(null) > 0 && second.count(null) > 0,
                    "connections per server: " + first.count(null) + " and " + second.count(null));
        } finally {
            clients.forEach(RawClient::close);
        }
    }

    @Test
    void reusePortWithNioFailsFastAtStart() {
        Server server = build(local().transport(Transport.NIO).reusePort(true));
        IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
        assertTrue(e.getMessage().contains("reusePort(true)") && e.getMessage().contains("SO_REUSEPORT"),
                e.getMessage());
        assertFalse(server.isRunning());
    }

    @Test
    void oneListenerIsOneListeningSocket() throws IOException {
        Server server = build(local()).start();
        assertEquals(1, listeningSockets(server.port()));
    }

    @Test
    void severalListenersWithNioFailFastAtStart() {
        Server server = build(local().transport(Transport.NIO).listeners(2));
        IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
        assertTrue(e.getMessage().contains("SO_REUSEPORT"), e.getMessage());
        assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("epoll"), e.getMessage());
        assertTrue(e.getMessage().contains("io_uring"), e.getMessage());
        assertFalse(server.isRunning());
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING", "NIO"})
    void bindingAPortInUseFailsNamingTheAddress(Transport transport) throws Exception {
        assumeAvailable(transport);
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Server server = build(local().transport(transport).port(port));
            IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
            assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
            assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("in use"), e.getMessage());
            assertFalse(server.isRunning());
            assertTrue(server.awaitTermination(Duration.ofSeconds(5)), "a failed start leaves nothing to wait for");
        }
    }

    /**
     * Sockets in state LISTEN (0A) bound to 127.0.0.1:{@code port}, from /proc/net/tcp and /proc/net/tcp6:
     * Netty's native transport opens dual-stack IPv6 sockets, so 127.0.0.1 shows there as ::ffff:127.0.0.1.
     */
    private static int listeningSockets(int port) throws IOException {
        String portHex = String.format(":%04X", port);
        List<String> addresses = List.of("0100007F" + portHex, "0000000000000000FFFF00000100007F" + portHex);
        int n = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path path = Path.of(table);
            if (!Files.exists(path)) {
                continue;
            }
            for (String line : Files.readAllLines(path)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && addresses.contains(f[1]) && f[3].equals("0A")) {
                    n++;
                }
            }
        }
        return n;
    }
}
