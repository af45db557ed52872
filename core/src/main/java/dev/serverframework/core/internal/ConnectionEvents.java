package dev.serverframework.core.internal;

/**
 * What the framework's handlers at the socket end of a pipeline ({@link ActivityHandler},
 * {@link OutboundQueueHandler}) report about their connection: the narrow way up from Netty's handlers to
 * the connection's life, so they need not know the connection itself. Called on the I/O loop.
 */
interface ConnectionEvents {

    /** Bytes came in from the peer (before decoding). */
    void bytesRead(long bytes);

    /** Bytes went to the transport. */
    void bytesWritten(long bytes);

    /** Nothing was read, written or touched for the idle timeout. */
    void idleTimedOut();

    /** Output has waited for a peer that took none of it for the write-stall timeout. */
    void writeStalled(long stalledMillis);

    /** A close was asked for and waits for pending output to go. */
    void closeRequested();
}
