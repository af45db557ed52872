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

/** Resolves the {@link Transport} setting, the system property and epoll's availability into one choice. */
public final class TransportSupport {
    private static final Logger log = LoggerFactory.getLogger(TransportSupport.class);

    private TransportSupport() {
    }

    /** The transport to use: EPOLL or NIO. Fails when EPOLL was asked for and cannot be had. */
    public static Transport resolve(Transport requested) {
        String forced = System.getProperty(Transport.PROPERTY);
        if (forced != null && !forced.isBlank()) {
            switch (forced.trim().toLowerCase(Locale.ROOT)) {
                case "nio":
                    return Transport.NIO;
                case "epoll":
                    requested = Transport.EPOLL;
                    break;
                case "auto":
                    break;
                default:
                    throw new IllegalArgumentException("system property " + Transport.PROPERTY
                            + " must be nio, epoll or auto, got '" + forced + "'");
            }
        }
        switch (requested) {
            case NIO:
                return Transport.NIO;
            case EPOLL:
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("transport EPOLL was requested but native epoll is unavailable: "
                            + Epoll.unavailabilityCause());
                }
                return Transport.EPOLL;
            default:
                if (Epoll.isAvailable()) {
                    return Transport.EPOLL;
                }
                log.warn("Native epoll is unavailable ({}); falling back to NIO", String.valueOf(Epoll.unavailabilityCause()));
                return Transport.NIO;
        }
    }

    /** The I/O handler of the event loops of a resolved transport. */
    public static IoHandlerFactory ioHandlerFactory(Transport t) {
        return t == Transport.EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /** The listening channel class of a resolved transport. */
    public static Class<? extends ServerChannel> serverChannelClass(Transport t) {
        return t == Transport.EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}
