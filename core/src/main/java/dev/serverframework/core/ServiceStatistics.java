package dev.serverframework.core;

/**
 * Counters of one service (one protocol name) of a {@link Server}. Thread-safe; readers see exact but not
 * mutually atomic values.
 */
public interface ServiceStatistics {

    /** The service name. */
    String name();

    /** Connections of this service open now. */
    int open();

    /** Bytes read from this service's connections (as received, before decoding; after TLS). */
    long bytesRead();

    /** Bytes handed to the transport for this service's connections. */
    long bytesWritten();

    /** Bad input reported by the protocol or its codecs. */
    long protocolErrors();
}
