package dev.serverframework.core;

/**
 * Which Netty transport a {@link Server} uses; {@link Server#transport()} tells which one it really got.
 *
 * <p>The system property {@code serverframework.transport} ({@link #PROPERTY}) overrides the setting, so a
 * deployment can switch without a rebuild: {@code nio}, {@code epoll} or {@code io_uring} forces that
 * transport (with the fallbacks each constant describes), {@code auto} leaves the setting as it is. Any
 * other value fails {@link Server#start()} with a message naming the property.
 *
 * <p>The choice is made once, on the thread that calls {@link Server#start()}.
 */
public enum Transport {
    /** Native epoll when it is available, NIO otherwise (logged as a warning). */
    AUTO,
    /** Native epoll, or fail at start with the reason it is unavailable. */
    EPOLL,
    /**
     * Native io_uring, on a recent Linux kernel. When the kernel or the process refuses it (too old a kernel,
     * {@code kernel.io_uring_disabled}, a seccomp filter, the native library missing) the server logs one
     * warning naming the cause and runs on epoll instead, or on NIO when epoll is unavailable too; it
     * does not fail. Offers SO_REUSEPORT listeners like epoll.
     */
    IO_URING,
    /** Java NIO: portable, slower, no SO_REUSEPORT listeners. */
    NIO;

    /**
     * Name of the system property that overrides the setting: {@code nio}, {@code epoll}, {@code io_uring} or
     * {@code auto}.
     */
    public static final String PROPERTY = "serverframework.transport";
}
