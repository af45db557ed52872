package dev.serverframework.core.internal;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one class of core that names Netty's io_uring types. The module descriptor only {@code requires
 * static} them, so on the module path they may be absent; every other class reaches them through here,
 * after {@link #availability()} said yes, and so loads without them. Any thread.
 */
final class IoUringTransport {
    private static final Logger log = LoggerFactory.getLogger(IoUringTransport.class);

    /**
     * Netty's switch for multishot POLL_ADD, read once, when its {@code IoUring} class loads. With it on
     * (Netty's default), a peer's reset that arrives while a read of its last bytes is in flight goes
     * unnoticed: the poll's one wakeup is spent on that read, the read reports the socket empty, and no
     * read or poll is armed again, so the connection stays open until the idle timeout (or for ever
     * without one). Seen with Netty 4.2.18 on Linux 6.18 for most connections that send a few bytes and
     * reset at once. A one-shot poll is armed again after each read and sees the reset.
     */
    static final String POLL_ADD_MULTISHOT = "io.netty.iouring.pollAddMultishotEnabled";

    private static final AtomicBoolean multishotWarned = new AtomicBoolean();

    private IoUringTransport() {
    }

    /**
     * Whether io_uring can be used in this process, and if not, why not. The first call, unless the
     * application chose otherwise, switches Netty's multishot POLL_ADD off before Netty reads the switch.
     */
    static TransportSupport.Availability availability() {
        if (System.getProperty(POLL_ADD_MULTISHOT) == null) {
            System.setProperty(POLL_ADD_MULTISHOT, "false");
        }
        try {
            if (!IoUring.isAvailable()) {
                return TransportSupport.Availability.unavailable(IoUring.unavailabilityCause());
            }
            if (IoUring.isPollAddMultishotEnabled() && multishotWarned.compareAndSet(false, true)) {
                log.warn("io_uring runs with multishot POLL_ADD ({}=true, or Netty's io_uring was loaded before "
                        + "the server could switch it off): a peer's reset that follows its data at once can "
                        + "go unnoticed until the idle timeout", POLL_ADD_MULTISHOT);
            }
            return TransportSupport.Availability.AVAILABLE;
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
