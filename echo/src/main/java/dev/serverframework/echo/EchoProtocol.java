package dev.serverframework.echo;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import io.netty.buffer.ByteBuf;

/**
 * Sends every byte it receives back, in order and unchanged. Under a slow reader it stops reading while
 * the connection is not writable and resumes in {@link #onReady}, so no byte is lost and the memory held
 * per connection stays bounded by the write-buffer water marks.
 *
 * <p>Stateless and thread-safe: one instance serves every connection. Its callbacks run on the I/O loop
 * ({@link Execution#IO_LOOP}): echoing never blocks, so the hop to a worker would only cost time.
 */
public final class EchoProtocol implements Protocol {
    /** The service name of echo connections. */
    public static final String SERVICE = "echo";

    @Override
    public String service() {
        return SERVICE;
    }

    @Override
    public Execution execution() {
        return Execution.IO_LOOP;
    }

    /** Writes the received bytes back; pauses reading when the peer does not keep up. On the I/O loop. */
    @Override
    public void onData(Connection connection, Object message) {
        connection.write(((ByteBuf) message).retain());
        if (!connection.isWritable()) {
            connection.pauseReading();
        }
    }

    /** The peer caught up: read again. On the I/O loop. */
    @Override
    public void onReady(Connection connection) {
        connection.resumeReading();
    }
}
