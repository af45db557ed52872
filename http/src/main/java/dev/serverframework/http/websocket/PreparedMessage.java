package dev.serverframework.http.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A WebSocket message encoded once into its frame, to be sent to many sockets: a server's frames are not
 * masked, so every receiver gets the same bytes, and a broadcast costs a buffer wrapper per receiver
 * instead of an encoding. Always sent uncompressed, which {@code permessage-deflate} allows. The frame is
 * kept in direct memory, which the garbage collector frees with the message: prepare a message once per
 * broadcast, not once per receiver. Immutable; any thread.
 */
public final class PreparedMessage {
    private static final int OPCODE_TEXT = 0x1;
    private static final int OPCODE_BINARY = 0x2;

    /**
     * The frame, in memory outside the heap: the native transports write it where it is, where a heap array
     * would be copied into a new direct buffer for every receiver. Never changed after construction; freed by
     * the garbage collector with this object.
     */
    private final ByteBuffer frame;

    private PreparedMessage(int opcode, byte[] payload) {
        int length = payload.length;
        int header = length < 126 ? 2 : length < 65536 ? 4 : 10;
        byte[] f = new byte[header + length];
        f[0] = (byte) (0x80 | opcode);
        if (length < 126) {
            f[1] = (byte) length;
        } else if (length < 65536) {
            f[1] = 126;
            f[2] = (byte) (length >>> 8);
            f[3] = (byte) length;
        } else {
            f[1] = 127;
            for (int i = 0; i < 8; i++) {
                f[2 + i] = (byte) ((long) length >>> (56 - 8 * i));
            }
        }
        System.arraycopy(payload, 0, f, header, length);
        this.frame = ByteBuffer.allocateDirect(f.length).put(f).flip();
    }

    /** A text message. */
    public static PreparedMessage text(String text) {
        return new PreparedMessage(OPCODE_TEXT, Objects.requireNonNull(text, "text").getBytes(StandardCharsets.UTF_8));
    }

    /** A binary message (the array is copied). */
    public static PreparedMessage binary(byte[] data) {
        return new PreparedMessage(OPCODE_BINARY, Objects.requireNonNull(data, "data").clone());
    }

    /** The frame's size on the wire, header included. */
    public int frameLength() {
        return frame.limit();
    }

    /** A new buffer over the frame's bytes (no copy), to be written once; releasing it frees nothing. */
    public ByteBuf frame() {
        return Unpooled.wrappedBuffer(frame.duplicate());
    }
}
