package dev.serverframework.core;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A published message as a subscriber receives it.
 *
 * @param channel the channel it was published on
 * @param bytes   its content, shared by every subscriber: read it, never change it
 * @param local   whether it was published in this process (through the same {@link PubSub}); false for a
 *                message another process published, which the engine brought
 */
public record PubSubMessage(String channel, byte[] bytes, boolean local) {
    /** @throws NullPointerException when channel or bytes is null */
    public PubSubMessage {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(bytes, "bytes");
    }

    /** The content decoded as UTF-8. */
    public String text() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "PubSubMessage[" + channel + ", " + bytes.length + " bytes, " + (local ? "local" : "remote") + "]";
    }
}
