package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.core.SettingChecks;
import dev.serverframework.echo.internal.LineFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.AttributeKey;

import java.nio.charset.StandardCharsets;

/**
 * Sends every byte it receives back, in order and unchanged. Under a slow reader it stops reading while
 * the connection is not writable and resumes in {@link #onReady}, so no byte is lost and the memory held
 * per connection stays bounded by the write-buffer water marks.
 *
 * <p>{@code new EchoProtocol()} is the plain binary echo. {@link #builder()} adds the options of the C
 * original's echo demo:
 * <pre>{@code
 * EchoProtocol echo = EchoProtocol.builder()
 *     .greeting("Hello there...\n")                 // sent on open
 *     .lineMode(true)                               // echo lines; a line "bye" ends the connection
 *     .ping("Server: ping?\n")                      // idle: probe, then close at the second timeout
 *     .goodbye("Echo server shutting down\nGoodbye.\n")   // on server shutdown
 *     .build();
 * }</pre>
 *
 * <p>When the peer shuts down its output (a half-close, as {@code nc -N} and {@code socat} do at the end
 * of their input) the connection closes once everything received so far has been echoed (the framework's
 * default {@link Protocol#onInputClosed}).
 *
 * <p>Immutable and thread-safe: one instance serves every connection. Its callbacks run on the I/O loop
 * ({@link Execution#IO_LOOP}): echoing never blocks, so the hop to a worker would only cost time.
 */
public final class EchoProtocol implements Protocol<ByteBuf> {
    private static final AttributeKey<State> STATE = AttributeKey.valueOf(EchoProtocol.class, "state");
    /** The service name of echo connections. */
    public static final String SERVICE = "echo";
    /** The longest line in line mode unless {@link Builder#maxLineLength} says otherwise. */
    public static final int DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

    private final byte[] greeting;
    private final boolean lineMode;
    private final int maxLineLength;
    private final byte[] ping;
    private final byte[] goodbye;

    /** The plain binary echo: no greeting, no line mode, idle connections closed, no goodbye. */
    public EchoProtocol() {
        this(new Builder());
    }

    private EchoProtocol(Builder b) {
        this.greeting = b.greeting;
        this.lineMode = b.lineMode;
        this.maxLineLength = b.maxLineLength;
        this.ping = b.ping;
        this.goodbye = b.goodbye;
    }

    /** Starts building an echo protocol with options; every option is off until set. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@value #SERVICE}. */
    @Override
    public String service() {
        return SERVICE;
    }

    /** {@link Execution#IO_LOOP}: echoing never blocks. */
    @Override
    public Execution execution() {
        return Execution.IO_LOOP;
    }

    /** In line mode, a line decoder. On the I/O loop. */
    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        if (lineMode) {
            pipeline.addLast("echo-lines", new LineFrameDecoder(maxLineLength));
        }
    }

    /** Sends the greeting, if any. On the I/O loop. */
    @Override
    public void onOpen(Connection connection) {
        if (ping != null) {
            connection.attr(STATE).set(new State());
        }
        if (greeting != null) {
            connection.write(greeting);
        }
    }

    /**
     * Writes the received bytes (or line) back; pauses reading when the peer does not keep up. In line
     * mode a line {@code bye} is echoed and then ends the connection once all output has gone out. On the
     * I/O loop.
     */
    @Override
    public void onData(Connection connection, ByteBuf data) {
        if (ping != null) {
            // Only then is there a state: looking it up creates the attribute, which plain echo does not need.
            connection.attr(STATE).get().probed = false;
        }
        boolean bye = lineMode && "bye".equals(LineFrameDecoder.text(data));
        connection.write(data.retain());
        if (bye) {
            // After the echo and everything before it; lines already read behind "bye" go nowhere (the
            // outbound queue refuses writes once closing).
            connection.close();
        } else if (!connection.isWritable()) {
            connection.pauseReading();
        }
    }

    /** In line mode, a line over the limit: an error line, then the connection closes. On the I/O loop. */
    @Override
    public void onInputTooLong(Connection connection, TooLongFrameException cause) {
        connection.write("error: " + cause.getMessage() + "\n");
        connection.close();
    }

    /** The peer caught up: read again. On the I/O loop. */
    @Override
    public void onReady(Connection connection) {
        connection.resumeReading();
    }

    /** Says goodbye, if set; the framework then closes after pending writes. On the I/O loop. */
    @Override
    public void onShutdown(Connection connection) {
        if (goodbye != null) {
            connection.write(goodbye);
        }
    }

    /**
     * The idle timeout passed. Without a probe set, closes. With one, sends it, and closes when the next
     * timeout passes without the peer sending anything. On the I/O loop.
     */
    @Override
    public void ping(Connection connection) {
        State state = connection.attr(STATE).get();
        if (ping == null || state == null || state.probed) {
            connection.close();
            return;
        }
        state.probed = true;
        connection.write(ping);
    }

    /** Per-connection state, only when a probe is set. Touched on the connection's I/O loop only. */
    private static final class State {
        /** A probe went out and the peer has sent nothing since. */
        boolean probed;
    }

    /** Options of an {@link EchoProtocol}. Not thread-safe; {@link #build()} makes an immutable protocol. */
    public static final class Builder {
        private byte[] greeting;
        private boolean lineMode;
        private int maxLineLength = DEFAULT_MAX_LINE_LENGTH;
        private byte[] ping;
        private byte[] goodbye;

        private Builder() {
        }

        /** Text (UTF-8) sent when a connection opens; {@code null} for none (the default). */
        public Builder greeting(String text) {
            this.greeting = bytes(text);
            return this;
        }

        /**
         * Echo whole lines rather than raw bytes: a line {@code bye} (after its echo and all pending
         * output) ends the connection, and a line longer than {@link #maxLineLength} gets an error line
         * and the connection is closed. Off by default.
         */
        public Builder lineMode(boolean on) {
            this.lineMode = on;
            return this;
        }

        /** The longest line in line mode, in bytes without the line terminator; default 64 KiB. */
        public Builder maxLineLength(int bytes) {
            this.maxLineLength = SettingChecks.atLeast("maxLineLength", bytes, 1);
            return this;
        }

        /**
         * On idle timeout send this probe (UTF-8) instead of closing; the connection closes at the second
         * timeout in a row without data from the peer. {@code null} (the default) closes at the first.
         */
        public Builder ping(String probe) {
            this.ping = bytes(probe);
            return this;
        }

        /** Text (UTF-8) sent to each connection when the server stops; {@code null} for none (the default). */
        public Builder goodbye(String text) {
            this.goodbye = bytes(text);
            return this;
        }

        /** The protocol with these options. */
        public EchoProtocol build() {
            return new EchoProtocol(this);
        }

        private static byte[] bytes(String text) {
            return text == null || text.isEmpty() ? null : text.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** {@code EchoProtocol[bytes]} or {@code EchoProtocol[lines]}. */
    @Override
    public String toString() {
        return "EchoProtocol[" + (lineMode ? "lines" : "bytes") + "]";
    }
}
