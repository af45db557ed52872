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
    requires org.slf4j;
    // com.sun.management.UnixOperatingSystemMXBean: the process's open-file limit.
    requires jdk.management;

    exports dev.serverframework.core;
}
