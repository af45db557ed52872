package dev.serverframework.core.redis;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The wire format of the Redis engine: own messages recognised, others' unwrapped, foreign ones whole. */
class RedisEnvelopeTest {
    private final Envelope mine = new Envelope(0x0123456789ABCDEFL);
    private final Envelope theirs = new Envelope(-42);
    private final byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);

    @Test
    void headerThenMessage() {
        byte[] wrapped = mine.wrap(hello);
        assertEquals(Envelope.HEADER + hello.length, wrapped.length);
        assertEquals((byte) 0xF0, wrapped[0]);
        assertEquals(0x0123456789ABCDEFL, Envelope.idOf(wrapped));
        assertArrayEquals(new byte[] {0x01, 0x23, 0x45, 0x67, (byte) 0x89, (byte) 0xAB, (byte) 0xCD, (byte) 0xEF},
                java.util.Arrays.copyOfRange(wrapped, 4, 12));
    }

    @Test
    void ownMessagesAreDroppedOthersUnwrapped() {
        assertNull(mine.unwrap(mine.wrap(hello)));
        assertArrayEquals(hello, theirs.unwrap(mine.wrap(hello)));
        assertArrayEquals(new byte[0], theirs.unwrap(mine.wrap(new byte[0])));
    }

    @Test
    void aForeignMessageIsDeliveredWhole() {
        assertSame(hello, mine.unwrap(hello));
        byte[] magicOnly = {(byte) 0xF0, 'S', 'F', '1', 0, 0, 0};
        assertSame(magicOnly, mine.unwrap(magicOnly));
        byte[] otherMagic = theirs.wrap(hello);
        otherMagic[3] = '2';
        assertSame(otherMagic, mine.unwrap(otherMagic));
    }
}
