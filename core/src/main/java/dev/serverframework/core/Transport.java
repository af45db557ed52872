package dev.serverframework.core;

/**
 * Which Netty transport a {@link Server} uses.
 *
 * <p>The system property {@code serverframework.transport=nio} forces NIO whatever the setting says,
 * so a deployment can fall back without a rebuild.
 */
public enum Transport {
    /** Native epoll when it is available, NIO otherwise (logged as a warning). */
    AUTO,
    /** Native epoll, or fail at start with the reason it is unavailable. */
    EPOLL,
    /** Java NIO: portable, slower, no SO_REUSEPORT listeners. */
    NIO;

    /** Name of the system property that forces NIO. */
    public static final String PROPERTY = "serverframework.transport";
}
