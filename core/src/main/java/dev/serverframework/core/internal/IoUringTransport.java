package dev.serverframework.core.internal;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;

/**
 * The one class of core that names Netty's io_uring types. The module descriptor only {@code requires
 * static} them, so on the module path they may be absent; every other class reaches them through here,
 * after {@link #availability()} said yes, and so loads without them. Any thread.
 */
final class IoUringTransport {
    private IoUringTransport() {
    }

    /** Whether io_uring can be used in this process, and if not, why not. */
    static TransportSupport.Availability availability() {
        try {
            return IoUring.isAvailable()
                    ? TransportSupport.Availability.AVAILABLE
                    : TransportSupport.Availability.unavailable(IoUring.unavailabilityCause());
        } catch (LinkageError e) {
            return TransportSupport.Availability.unavailable(new IllegalStateException(
                    "the io_uring classes are not loaded (on the module path, add --add-modules "
                            + "io.netty.transport.classes.io_uring,io.netty.transport.io_uring.linux.x86_64)", e));
        }
    }

    /** The I/O handler of io_uring event loops. Only after {@link #availability()} said it is available. */
    static IoHandlerFactory ioHandlerFactory() {
        return IoUringIoHandler.newFactory();
    }

    /** The io_uring listening channel. Only after {@link #availability()} said it is available. */
    static Class<? extends ServerChannel> serverChannelClass() {
        return IoUringServerSocketChannel.class;
    }
}
