package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A graceful close shuts down output and reads on, discarding what the peer still sends, until the peer
 * closes or the linger timeout passes: a request racing the close meets a clean end of stream, never a
 * reset that would destroy the answer before the peer reads it.
 */
class LingeringCloseTest {
    private Server server;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    /** Records each line; answers "quit" with "bye" and closes. */
    private Protocol quitting(Protocol.Execution execution) {
        return new LineProtocol("linger", (c, line) -> {
            lines.add(line);
            if (line.equals("quit")) {
                c.write("bye\n");
                c.close();
            }
        }) {
            @Override
            public Execution execution() {
                return execution;
            }
        };
    }

    /**
     * The client keeps sending megabytes after "quit" while the server closes. Without the lingering
     * close, the server's close with unread input sends a reset, and the client's read of "bye" fails with
     * "Connection reset" whenever the reset overtakes it.
     */
    @ParameterizedTest
    @EnumSource(Protocol.Execution.class)
    void aClientStillSendingReadsTheAnswerThenACleanEndOfStream(Protocol.Execution execution) throws Exception {
        server = local(quitting(execution)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            byte[] more = "more data the server will never answer\n".repeat(64 * 1024).getBytes(StandardCharsets.UTF_8);
            OutputStream out = client.socket().getOutputStream();
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try {
                    out.write("quit\n".getBytes(StandardCharsets.UTF_8));
                    out.write(more);
                    out.flush();
                } catch (IOException e) {
                    throw new AssertionError("the server reset the connection while the client sent", e);
                }
            });
            InputStream in = client.socket().getInputStream();
            assertEquals("bye", client.readLine());
            assertEquals(-1, in.read(), "a clean end of stream after the answer");
            // Everything the client sent was read (and discarded) by the server: no reset on its side either.
            sender.get(20, TimeUnit.SECONDS);
        }
        Await.until("the server to close the connection", () -> server.count(null) == 0);
        assertEquals(List.of("quit"), List.copyOf(lines).subList(0, 1));
    }

    @Test
    void theSocketClosesWhenThePeerClosesNotAtTheLingerTimeout() throws Exception {
        server = local(quitting(Protocol.Execution.WORKER)).lingerTimeout(Duration.ofSeconds(30)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            assertEquals("bye", client.send("quit\n").readLine());
            assertNull(client.readLine());
            assertEquals(1, server.count(null), "the server lingers while the client has not closed");
        }
        Await.until("the server to close once the client closed", () -> server.count(null) == 0);
    }

    @Test
    void aPeerThatNeverClosesIsDroppedAfterTheLingerTimeout() throws Exception {
        server = local(quitting(Protocol.Execution.WORKER)).lingerTimeout(Duration.ofMillis(200)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            assertEquals("bye", client.send("quit\n").readLine());
            assertNull(client.readLine());
            Await.until("the linger timeout to close the socket", () -> server.count(null) == 0);
        }
    }

    @Test
    void inputSentAfterTheCloseNeverReachesTheProtocol() throws Exception {
        server = local(quitting(Protocol.Execution.WORKER)).lingerTimeout(Duration.ofSeconds(30)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            assertEquals("bye", client.send("quit\n").readLine());
            client.send("late\n");
            assertNull(client.readLine());
            client.socket().shutdownOutput();
            Await.until("the server to close once the client's input ended", () -> server.count(null) == 0);
        }
        assertEquals(List.of("quit"), lines);
    }

    @Test
    void withNoLingerTheSocketClosesAsSoonAsTheWritesAreOut() {
        server = local(quitting(Protocol.Execution.WORKER)).lingerTimeout(Duration.ZERO).build().start();
        try (RawClient client = new RawClient(server.port())) {
            assertEquals("bye", client.send("quit\n").readLine());
            assertNull(client.readLine());
            Await.until("the server to close without waiting for the client", () -> server.count(null) == 0);
        }
    }
}
