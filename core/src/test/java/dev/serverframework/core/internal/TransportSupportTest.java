package dev.serverframework.core.internal;

import dev.serverframework.core.Transport;
import dev.serverframework.core.internal.TransportSupport.Availability;
import dev.serverframework.core.internal.TransportSupport.Choice;
import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transport decision with the native transports' availability injected: what happens when the kernel
 * refuses io_uring (or epoll), which a test cannot make the real kernel do.
 */
class TransportSupportTest {
    private static final Supplier<Availability> YES = () -> Availability.AVAILABLE;
    private static final Supplier<Availability> IO_URING_REFUSED = () -> Availability.unavailable(
            new UnsupportedOperationException("io_uring_setup: Operation not permitted"));
    private static final Supplier<Availability> EPOLL_REFUSED = () -> Availability.unavailable(
            new UnsatisfiedLinkError("no netty_transport_native_epoll_x86_64"));
    /** For a decision that must not look: probing io_uring loads its native library. */
    private static final Supplier<Availability> NOT_ASKED = () -> {
        throw new AssertionError("availability asked for although the decision does not need it");
    };

    @Test
    void ioUringWhenAvailableIsIoUringWithoutWarning() {
        Choice c = TransportSupport.choose(Transport.IO_URING, null, YES, NOT_ASKED);
        assertEquals(Transport.IO_URING, c.transport());
        assertNull(c.warning());
    }

    @Test
    void ioUringRefusedFallsBackToEpollWithAWarningNamingTheCause() {
        Choice c = TransportSupport.choose(Transport.IO_URING, null, IO_URING_REFUSED, YES);
        assertEquals(Transport.EPOLL, c.transport());
        assertTrue(c.warning().contains("io_uring"), c.warning());
        assertTrue(c.warning().contains("io_uring_setup: Operation not permitted"), c.warning());
        assertTrue(c.warning().contains("falling back to epoll"), c.warning());
        assertTrue(c.warning().contains("setting"), c.warning());
    }

    @Test
    void ioUringAndEpollRefusedFallBackToNioNamingBothCauses() {
        Choice c = TransportSupport.choose(Transport.IO_URING, null, IO_URING_REFUSED, EPOLL_REFUSED);
        assertEquals(Transport.NIO, c.transport());
        assertTrue(c.warning().contains("io_uring_setup: Operation not permitted"), c.warning());
        assertTrue(c.warning().contains("no netty_transport_native_epoll_x86_64"), c.warning());
        assertTrue(c.warning().contains("falling back to NIO"), c.warning());
    }

    @Test
    void propertyAsksForIoUringWhateverTheSetting() {
        for (Transport setting : Transport.values()) {
            assertEquals(Transport.IO_URING, TransportSupport.choose(setting, "io_uring", YES, NOT_ASKED).transport(),
                    "setting " + setting);
        }
        assertEquals(Transport.IO_URING,
                TransportSupport.choose(Transport.AUTO, " IO_URING ", YES, NOT_ASKED).transport());
    }

    @Test
    void aFallbackFromThePropertySaysThePropertyAskedForIt() {
        Choice c = TransportSupport.choose(Transport.AUTO, "io_uring", IO_URING_REFUSED, YES);
        assertEquals(Transport.EPOLL, c.transport());
        assertTrue(c.warning().contains(Transport.PROPERTY + "=io_uring"), c.warning());
    }

    @Test
    void autoStaysEpollAndNeverProbesIoUring() {
        Choice c = TransportSupport.choose(Transport.AUTO, null, NOT_ASKED, YES);
        assertEquals(Transport.EPOLL, c.transport());
        assertNull(c.warning());
        assertEquals(Transport.EPOLL, TransportSupport.choose(Transport.AUTO, "auto", NOT_ASKED, YES).transport());
    }

    @Test
    void autoWithoutEpollIsNioWithAWarning() {
        Choice c = TransportSupport.choose(Transport.AUTO, null, NOT_ASKED, EPOLL_REFUSED);
        assertEquals(Transport.NIO, c.transport());
        assertTrue(c.warning().contains("no netty_transport_native_epoll_x86_64"), c.warning());
    }

    @Test
    void epollRefusedFailsInsteadOfFallingBack() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TransportSupport.choose(Transport.EPOLL, null, NOT_ASKED, EPOLL_REFUSED));
        assertTrue(e.getMessage().contains("no netty_transport_native_epoll_x86_64"), e.getMessage());
    }

    @Test
    void nioNeedsNoNativeTransport() {
        assertEquals(Transport.NIO, TransportSupport.choose(Transport.NIO, null, NOT_ASKED, NOT_ASKED).transport());
        assertEquals(Transport.NIO,
                TransportSupport.choose(Transport.IO_URING, "nio", NOT_ASKED, NOT_ASKED).transport());
    }

    @Test
    void anUnknownPropertyValueListsTheValuesItTakes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransportSupport.choose(Transport.AUTO, "uring", NOT_ASKED, NOT_ASKED));
        assertTrue(e.getMessage().contains("nio, epoll, io_uring or auto"), e.getMessage());
        assertTrue(e.getMessage().contains("'uring'"), e.getMessage());
    }

    @Test
    void autoIsNotATransportToBuildChannelsFor() {
        assertThrows(IllegalArgumentException.class, () -> TransportSupport.serverChannelClass(Transport.AUTO));
        assertThrows(IllegalArgumentException.class, () -> TransportSupport.ioHandlerFactory(Transport.AUTO));
    }
}
