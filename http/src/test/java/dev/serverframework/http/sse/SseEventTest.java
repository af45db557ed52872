package dev.serverframework.http.sse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code text/event-stream} encoding of one event, and the values an event or the options refuse. */
class SseEventTest {

    private static String text(SseEvent e) {
        return new String(e.encoded(), StandardCharsets.UTF_8);
    }

    @Test
    void everyFieldAndEachLineOfDataOnItsOwnLine() {
        SseEvent e = SseEvent.of("7", "update", "one\r\ntwo\rthree\nfour").withRetry(Duration.ofMillis(2500));
        assertEquals("id: 7\nevent: update\nretry: 2500\ndata: one\ndata: two\ndata: three\ndata: four\n\n", text(e));
    }

    @Test
    void dataOnlyEmptyDataAndTrailingLineBreaks() {
        assertEquals("data: hello\n\n", text(SseEvent.data("hello")));
        assertEquals("data: \n\n", text(SseEvent.data("")));
        // A line break at the end is an empty last line: the client's data ends with a line feed.
        assertEquals("data: a\ndata: \n\n", text(SseEvent.data("a\r")));
        assertEquals("data: \ndata: \n\n", text(SseEvent.data("\r\n")));
    }

    @Test
    void encodedOnceAndShared() {
        SseEvent e = SseEvent.data("héllo €");
        assertSame(e.encoded(), e.encoded(), "a broadcast must not encode the event again for each stream");
        assertEquals("data: héllo €\n\n", text(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\nb", "a\rb", "a\r\nb", "\n"})
    void anIdOrTypeWithALineBreakIsRefused(String bad) {
        assertThrows(IllegalArgumentException.class, () -> SseEvent.of(bad, null, "x"));
        assertThrows(IllegalArgumentException.class, () -> SseEvent.of(null, bad, "x"));
    }

    @Test
    void otherBadValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SseEvent.of("a\0b", null, "x"));
        assertThrows(NullPointerException.class, () -> SseEvent.data(null));
        assertThrows(IllegalArgumentException.class, () -> SseEvent.data("x").withRetry(Duration.ofMillis(-1)));
    }

    @Test
    void optionsOutOfRangeFailNamingTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SseOptions.builder().heartbeat(Duration.ofMillis(500)));
        assertTrue(e.getMessage().contains("heartbeat"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SseOptions.builder().maxQueuedBytes(0));
        assertThrows(IllegalArgumentException.class, () -> SseOptions.builder().dropGrace(Duration.ofMinutes(11)));
    }
}
