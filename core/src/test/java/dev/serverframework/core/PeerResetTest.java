package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.LineProtocol;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A peer's reset is noticed when it arrives, however soon it follows the peer's last bytes: the connection
 * closes and counts as one reset, with no timeout to help (the idle timeout is off here). On io_uring with
 * Netty's multishot POLL_ADD most of these resets went unnoticed and their connections stayed open.
 */
class PeerResetTest {
    private static final int CONNECTIONS = 50;

    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination();
        }
    }

    private static Protocol<String> echo(Protocol.Execution execution) {
        return new LineProtocol("echo", (c, line) -> c.write(line + "\n")) {
            @Override
            public Execution execution() {
                return execution;
            }
        };
    }

    @ParameterizedTest
    @EnumSource(Protocol.Execution.class)
    void aResetRightAfterTheLastBytesClosesTheConnectionAtOnce(Protocol.Execution execution) {
        server = local(echo(execution)).idleTimeout(Duration.ZERO).build().start();
        ServerStatistics stats = server.statistics();
        for (int i = 0; i < CONNECTIONS; i++) {
            RawClient c = new RawClient(server.port());
            c.send("half a line, then a reset");
            c.reset();
        }
        Await.until("every reset connection to be closed",
                () -> stats.closed() == CONNECTIONS && server.count(null) == 0);
        assertEquals(CONNECTIONS, stats.resets(), "each reset counted once, as a reset");
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("still served", c.send("still served\n").readLine());
        }
    }
}
