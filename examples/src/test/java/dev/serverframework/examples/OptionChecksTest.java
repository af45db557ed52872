package dev.serverframework.examples;

import dev.serverframework.core.Server;
import dev.serverframework.echo.ChatProtocol;
import dev.serverframework.echo.ChatRoom;
import dev.serverframework.examples.chat.WebChat;
import dev.serverframework.examples.kv.KvProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link OptionChecks} maps a builder's message to an option by the setting name the message starts with;
 * a reworded builder message would silently show the setting's name ({@code maxLineLength}) to a user
 * instead of the option ({@code --max-line}). So each key of each map must be what the builder check it
 * stands for really says, and each key needs a check here (a new key without one fails).
 */
public class OptionChecksTest {
    /**
     * Asserts that {@code checks} covers exactly the keys of {@code options}, and that each check throws an
     * {@link IllegalArgumentException} whose message starts with its key and a space.
     */
    public static void assertEachKeyIsWhatItsBuilderSays(Map<String, String> options, Map<String, Executable> checks) {
        assertEquals(options.keySet(), checks.keySet(), "a check for every key of the map, and no other");
        checks.forEach((key, check) -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, check, key);
            assertTrue(e.getMessage().startsWith(key + " "), key + " -> " + options.get(key) + ": " + e.getMessage());
        });
    }

    @Test
    void serverOptions() {
        assertEachKeyIsWhatItsBuilderSays(ServerOptions.OPTIONS, Map.of(
                "bindAddress", () -> Server.builder().bindAddress("[::1"),
                "workers", () -> Server.builder().workers(0),
                "ioThreads", () -> Server.builder().ioThreads(0),
                "listeners", () -> Server.builder().listeners(0),
                "idleTimeout", () -> Server.builder().idleTimeout(Duration.ofSeconds(-1)),
                "writeStallTimeout", () -> Server.builder().writeStallTimeout(Duration.ofSeconds(-1)),
                "lingerTimeout", () -> Server.builder().lingerTimeout(Duration.ofMillis(-1)),
                "maxConnections", () -> Server.builder().maxConnections(0)));
        // The port, added by each command under its own option (--port, --http-port, --metrics-port).
        assertEachKeyIsWhatItsBuilderSays(Map.of("port", "--port"), Map.of("port", () -> Server.builder().port(-1)));
    }

    @Test
    void chatOptions() {
        ChatRoom room = ChatRoom.builder().build();
        assertEachKeyIsWhatItsBuilderSays(ChatCommand.OPTIONS, Map.of(
                "maxLineLength", () -> ChatRoom.builder().maxLineLength(0),
                "history", () -> ChatRoom.builder().history(-1),
                "channel", () -> ChatRoom.builder().channel(""),
                "maxPendingBytes", () -> ChatProtocol.builder().maxPendingBytes(0),
                "idleTimeout", () -> ChatProtocol.builder().idleTimeout(Duration.ofSeconds(-1)),
                "maxQueuedBytes", () -> WebChat.builder(room).maxQueuedBytes(0),
                "awayGrace", () -> WebChat.builder(room).awayGrace(Duration.ofHours(2))));
    }

    @Test
    void kvOptions() {
        assertEachKeyIsWhatItsBuilderSays(KvCommand.OPTIONS, Map.of(
                "maxBulkLength", () -> KvProtocol.builder().maxBulkLength(0),
                "maxQueryBuffer", () -> KvProtocol.builder().maxQueryBuffer(0),
                "maxTotalQueryBuffer", () -> KvProtocol.builder().maxTotalQueryBuffer(0)));
    }
}
