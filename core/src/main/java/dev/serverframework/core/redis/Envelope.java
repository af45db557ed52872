package dev.serverframework.core.redis;

import java.util.Arrays;

/**
 * The wire format of what a {@link RedisEngine} publishes: a 12-byte header, then the message unchanged.
 *
 * <pre>
 *   bytes 0-3   magic: 0xF0 'S' 'F' '1'
 *   bytes 4-11  the publishing engine's id: a random 64-bit number, big-endian
 *   bytes 12-   the message
 * </pre>
 *
 * <p>Why: a {@code PubSub} delivers its own messages to its local subscribers itself, and Redis sends every
 * message back to the connection that subscribed, publisher included; the id lets an engine drop its own
 * messages so they are not delivered twice. The magic starts with 0xF0 followed by an ASCII byte, which is
 * never valid UTF-8: a text message published by another client ({@code redis-cli PUBLISH chat hello}) never
 * looks like an envelope, and is delivered whole. Version 1 is the trailing '1'.
 *
 * <p>Stateless apart from the id; thread-safe.
 */
final class Envelope {
    static final int HEADER = 12;
    private static final byte[] MAGIC = {(byte) 0xF0, 'S', 'F', '1'};

    private final long engineId;

    Envelope(long engineId) {
        this.engineId = engineId;
    }

    long engineId() {
        return engineId;
    }

    /** The message with this engine's header in front. */
    byte[] wrap(byte[] message) {
        byte[] out = new byte[HEADER + message.length];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        for (int i = 0; i < 8; i++) {
            out[4 + i] = (byte) (engineId >>> (56 - 8 * i));
        }
        System.arraycopy(message, 0, out, HEADER, message.length);
        return out;
    }

    /**
     * What a received payload carries for the subscribers: null when this engine published it (drop it),
     * the message without the header when another engine did, the payload whole when it has no header
     * (another kind of client published it).
     */
    byte[] unwrap(byte[] payload) {
        if (!isEnvelope(payload)) {
            return payload;
        }
        if (idOf(payload) == engineId) {
            return null;
        }
        return Arrays.copyOfRange(payload, HEADER, payload.length);
    }

    static boolean isEnvelope(byte[] payload) {
        if (payload.length < HEADER) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (payload[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    static long idOf(byte[] payload) {
        long id = 0;
        for (int i = 0; i < 8; i++) {
            id = (id << 8) | (payload[4 + i] & 0xFF);
        }
        return id;
    }
}
