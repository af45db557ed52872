/**
 * The core of server-framework: a {@link dev.serverframework.core.Server} runs
 * {@link dev.serverframework.core.Protocol}s over {@link dev.serverframework.core.Connection}s, on Netty's
 * I/O event loops and a {@link dev.serverframework.core.WorkerGroup}. Only {@code dev.serverframework.core}
 * is API; {@code dev.serverframework.core.internal} is the machinery behind it and is not exported.
 */
module dev.serverframework.core {
    // Netty types appear in the API (ByteBuf, ChannelPipeline, EventExecutor, AttributeKey, SslContext,
    // TooLongFrameException): a user of this module reads them too.
    requires transitive io.netty.buffer;
    requires transitive io.netty.common;
    requires transitive io.netty.transport;
    requires transitive io.netty.handler;
    requires transitive io.netty.codec;
    requires io.netty.transport.classes.epoll;
    // The native library of the epoll transport, for Linux x86-64 only: static, so that elsewhere the server
    // starts on NIO (logged) instead of failing. On the module path nothing resolves it unless the
    // application adds it: --add-modules io.netty.transport.epoll.linux.x86_64.
    requires static io.netty.transport.epoll.linux.x86_64;
    // SO_REUSEPORT for several listeners: one option object that the epoll and io_uring listeners share.
    requires io.netty.transport.unix.common;
    // io_uring is opt-in (Transport.IO_URING or -Dserverframework.transport=io_uring), so both its classes and
    // its native library (Linux x86-64) are static: a modular application that never asks for it need not
    // resolve them, and one that asks without them runs on epoll with a warning naming the cause
    // (only IoUringTransport names these classes). To use it on the module path: --add-modules
    // io.netty.transport.classes.io_uring,io.netty.transport.io_uring.linux.x86_64.
    requires static io.netty.transport.classes.io_uring;
    requires static io.netty.transport.io_uring.linux.x86_64;
    requires org.slf4j;
    // The Redis pub/sub engine (dev.serverframework.core.redis) only: Lettuce is an optional dependency, so
    // static; an application that uses RedisEngine adds lettuce-core (module lettuce.core). No class outside
    // that package names a Lettuce type.
    requires static lettuce.core;
    // com.sun.management.UnixOperatingSystemMXBean: the process's open-file limit.
    requires jdk.management;

    exports dev.serverframework.core;
    exports dev.serverframework.core.redis;
}
