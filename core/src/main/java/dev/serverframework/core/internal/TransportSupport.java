package dev.serverframework.core.internal;

import dev.serverframework.core.Transport;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * Resolves the {@link Transport} setting, the system property and the native transports' availability into
 * one choice, and gives that choice's event-loop handler and listening channel. Any thread.
 */
public final class TransportSupport {
    private static final Logger log = LoggerFactory.getLogger(TransportSupport.class);

    private TransportSupport() {
    }

    /** Whether a native transport can be used in this process, and if not, why not. */
    record Availability(boolean available, Throwable cause) {
        static final Availability AVAILABLE = new Availability(true, null);

        static Availability unavailable(Throwable cause) {
            return new Availability(false, cause);
        }

        String reason() {
            return cause == null ? "unknown cause" : String.valueOf(cause);
        }
    }

    /** A resolved transport, and the warning to log when it is not the one asked for ({@code null} if none). */
    record Choice(Transport transport, String warning) {
    }

    /**
     * The transport to use: EPOLL, IO_URING or NIO. Logs one warning when it falls back from the one asked
     * for. On the thread that starts the server.
     *
     * @throws IllegalArgumentException when the system property has a value it does not know
     * @throws IllegalStateException    when EPOLL was asked for and native epoll is unavailable
     */
    public static Transport resolve(Transport requested) {
        Choice choice = choose(requested, System.getProperty(Transport.PROPERTY),
                IoUringTransport::availability, TransportSupport::epollAvailability);
        if (choice.warning() != null) {
            log.warn(choice.warning());
        }
        return choice.transport();
    }

    /**
     * The decision behind {@link #resolve}, with the property's value and the native transports'
     * availability given, so that a test can make a transport unavailable. An availability is asked for
     * only when the decision needs it: probing io_uring loads its native library.
     */
    static Choice choose(Transport requested, String property, Supplier<Availability> ioUring,
                         Supplier<Availability> epoll) {
        String origin = "setting";
        if (property != null && !property.isBlank()) {
            String value = property.trim().toLowerCase(Locale.ROOT);
            switch (value) {
                case "nio":
                    return new Choice(Transport.NIO, null);
                case "epoll":
                    requested = Transport.EPOLL;
                    break;
                case "io_uring":
                    requested = Transport.IO_URING;
                    break;
                case "auto":
                    break;
                default:
                    throw new IllegalArgumentException("system property " + Transport.PROPERTY
                            + " must be nio, epoll, io_uring or auto, got '" + property + "'");
            }
            if (!value.equals("auto")) {
                origin = "system property " + Transport.PROPERTY + "=" + value;
            }
        }
        switch (requested) {
            case NIO:
                return new Choice(Transport.NIO, null);
            case EPOLL: {
                Availability e = epoll.get();
                if (!e.available()) {
                    throw new IllegalStateException("transport EPOLL was requested (" + origin
                            + ") but native epoll is unavailable: " + e.reason());
                }
                return new Choice(Transport.EPOLL, null);
            }
            case IO_URING: {
                Availability u = ioUring.get();
                if (u.available()) {
                    return new Choice(Transport.IO_URING, null);
                }
                Availability e = epoll.get();
                String asked = "Transport io_uring was requested (" + origin + ") but is unavailable: " + u.reason();
                return e.available()
                        ? new Choice(Transport.EPOLL, asked + "; falling back to epoll")
                        : new Choice(Transport.NIO, asked + "; native epoll is unavailable too (" + e.reason()
                                + "); falling back to NIO");
            }
            default: {
                Availability e = epoll.get();
                return e.available()
                        ? new Choice(Transport.EPOLL, null)
                        : new Choice(Transport.NIO,
                                "Native epoll is unavailable (" + e.reason() + "); falling back to NIO");
            }
        }
    }

    /**
     * Whether {@code t} can run in this process: NIO always, EPOLL and IO_URING when Netty can load them
     * (probing IO_URING prepares it as a server start would). Any thread.
     *
     * @throws IllegalArgumentException for AUTO, a setting rather than a transport
     */
    public static boolean isAvailable(Transport t) {
        return availability(t).available();
    }

    /** Why {@code t} cannot run in this process, or {@code null} when it can. Any thread. */
    public static String unavailabilityReason(Transport t) {
        Availability a = availability(t);
        return a.available() ? null : a.reason();
    }

    private static Availability availability(Transport t) {
        switch (resolved(t)) {
            case EPOLL:
                return epollAvailability();
            case IO_URING:
                return IoUringTransport.availability();
            default:
                return Availability.AVAILABLE;
        }
    }

    private static Availability epollAvailability() {
        return Epoll.isAvailable() ? Availability.AVAILABLE : Availability.unavailable(Epoll.unavailabilityCause());
    }

    /** The I/O handler of the event loops of a resolved transport. */
    public static IoHandlerFactory ioHandlerFactory(Transport t) {
        switch (resolved(t)) {
            case EPOLL:
                return EpollIoHandler.newFactory();
            case IO_URING:
                return IoUringTransport.ioHandlerFactory();
            default:
                return NioIoHandler.newFactory();
        }
    }

    /** The listening channel class of a resolved transport. */
    public static Class<? extends ServerChannel> serverChannelClass(Transport t) {
        switch (resolved(t)) {
            case EPOLL:
                return EpollServerSocketChannel.class;
            case IO_URING:
                return IoUringTransport.serverChannelClass();
            default:
                return NioServerSocketChannel.class;
        }
    }

    private static Transport resolved(Transport t) {
        if (t == Transport.AUTO) {
            throw new IllegalArgumentException("AUTO is a setting, not a transport: resolve it first");
        }
        return t;
    }
}
