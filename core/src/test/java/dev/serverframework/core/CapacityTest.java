package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Over maxConnections a client gets the busy message and is closed; a freed place admits the next one. */
class CapacityTest {
    private Server server;
    private final List<RawClient> clients = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        clients.forEach(RawClient::close);
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private RawClient client() {
        RawClient c = new RawClient(server.port());
        clients.add(c);
        return c;
    }

    /** A round trip proves the server admitted the client and serves it. */
    private static void assertServed(RawClient c, String text) {
        assertEquals(text, c.send(text + "\n").readLine());
    }

    @Test
    void fourthClientGetsTheBusyMessageAndAFreedPlaceAdmitsANewOne() {
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .ioThreads(2).workers(2)
                .maxConnections(3).busyMessage("busy\n")
                .protocol(new LineProtocol("echo", (c, line) -> c.write(line + "\n")))
                .build().start();

        RawClient first = client();
        assertServed(first, "one");
        RawClient second = client();
        assertServed(second, "two");
        RawClient third = client();
        assertServed(third, "three");
        assertEquals(3, server.count(null));

        // The fourth: exactly the busy message, then the server closes it.
        RawClient fourth = client();
        assertEquals("busy\n", new String(fourth.readToEnd(), StandardCharsets.UTF_8));
        assertEquals(1, server.statistics().rejected());
        assertEquals(3, server.statistics().accepted());

        // The admitted ones are still served.
        assertServed(first, "still one");
        assertServed(second, "still two");
        assertServed(third, "still three");

        // One of them leaves: its place goes to the next client.
        second.close();
        Await.until("the server to see the second client close", () -> server.count(null) == 2);
        RawClient fifth = client();
        assertServed(fifth, "five");
        assertEquals(3, server.count(null));
        assertEquals(1, server.statistics().rejected());
        assertEquals(4, server.statistics().accepted());

        // Full again: the next one is refused too, and everyone admitted keeps being served.
        RawClient sixth = client();
        assertEquals("busy\n", new String(sixth.readToEnd(), StandardCharsets.UTF_8));
        assertEquals(2, server.statistics().rejected());
        assertServed(first, "last one");
        assertServed(third, "last three");
        assertServed(fifth, "last five");
    }

    @Test
    void withoutBusyMessageTheClientOverCapacityIsJustClosed() {
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false)
                .maxConnections(1)
                .protocol(new LineProtocol("echo", (c, line) -> c.write(line + "\n")))
                .build().start();
        RawClient admitted = client();
        assertServed(admitted, "in");
        RawClient refused = client();
        assertEquals(0, refused.readToEnd().length);
        assertEquals(1, server.statistics().rejected());
        assertServed(admitted, "still in");
        assertEquals(1, server.count(null));
    }

    /** One connection at most; a refused client gets "BUSY" once its request (ended by a blank line) is in. */
    private static Server startAnsweringBusyAfterTheRequest() {
        return Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).maxConnections(1)
                .protocol(new LineProtocol("req", (c, line) -> c.write(line + "\n")) {
                    @Override
                    public BusyAnswer busyAnswer() {
                        return BusyAnswer.afterRequest("BUSY\n".getBytes(StandardCharsets.US_ASCII),
                                "\n\n".getBytes(StandardCharsets.US_ASCII));
                    }
                })
                .build().start();
    }

    /** A request/response protocol's refusal waits for the request, then answers and closes cleanly. */
    @Test
    void aBusyAnswerThatWaitsForTheRequestGoesOutOnlyOnceTheRequestEnded() throws Exception {
        server = startAnsweringBusyAfterTheRequest();
        RawClient admitted = client();
        assertServed(admitted, "in");

        RawClient refused = client();
        refused.send("first line of a request\n");
        refused.socket().setSoTimeout(300);
        assertThrows(SocketTimeoutException.class, () -> refused.socket().getInputStream().read(),
                "answered before the request ended");
        refused.socket().setSoTimeout(10_000);
        // The end of the request, and more input after it: the lingering close reads and discards it.
        refused.send("\n" + "trailing input\n".repeat(10_000));
        assertEquals("BUSY\n", new String(refused.readToEndCleanly(), StandardCharsets.UTF_8));
        assertEquals(1, server.statistics().rejected());
        assertServed(admitted, "still in");
    }

    @Test
    void aRefusedClientThatSendsNothingIsAnsweredAfterAShortDeadline() {
        server = startAnsweringBusyAfterTheRequest();
        assertServed(client(), "in");
        long start = System.nanoTime();
        assertEquals("BUSY\n", new String(client().readToEndCleanly(), StandardCharsets.UTF_8));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(ms >= 900, "answered after " + ms + " ms, before the deadline");
    }

    /** Refused while it was still sending: a clean end of stream, never a reset. */
    @Test
    void aRefusalWithoutAnyAnswerStillClosesCleanly() {
        server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).maxConnections(1)
                .protocol(new LineProtocol("echo", (c, line) -> c.write(line + "\n")))
                .build().start();
        assertServed(client(), "in");
        RawClient refused = client();
        refused.send("a request the server will never read\n".repeat(50_000));
        assertEquals(0, refused.readToEndCleanly().length);
    }
}
