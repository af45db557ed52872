package dev.serverframework.core;

import dev.serverframework.core.testing.LineProtocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Shared by the Connection, idle-timeout, back-pressure and TLS tests: a recording line protocol and helpers. */
final class ConnectionTestSupport {
    private ConnectionTestSupport() {
    }

    /** A builder for a server on an ephemeral port of 127.0.0.1, without a shutdown hook. */
    static ServerBuilder local(Protocol<?> protocol) {
        return Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).workers(2).ioThreads(2)
                .protocol(protocol);
    }

    /** Deterministic pseudo-random bytes. */
    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A plain socket to 127.0.0.1:port with a small receive buffer (set before connecting, so it binds). */
    static Socket smallBufferClient(int port, int receiveBuffer) {
        try {
            Socket s = new Socket();
            s.setReceiveBufferSize(receiveBuffer);
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads exactly n bytes or fails. */
    static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] buf = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(buf, off, n - off);
            if (r < 0) {
                throw new AssertionError("connection closed after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return buf;
    }

    /** Reads until EOF (or a reset); a read timeout fails the test, since the server never closed. */
    static byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        try {
            int r;
            while ((r = in.read(buf)) >= 0) {
                all.write(buf, 0, r);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection; read " + all.size() + " bytes", e);
        } catch (SocketException reset) {
            // a reset ends the stream too
        }
        return all.toByteArray();
    }

    /**
     * A line protocol that records its connections' lifecycle: opened and closed connections, onReady
     * calls, and an optional ping handler (null keeps the default, which closes).
     */
    static class Probe extends LineProtocol {
        final BlockingQueue<Connection> opened = new LinkedBlockingQueue<>();
        final BlockingQueue<Connection> closed = new LinkedBlockingQueue<>();
        final AtomicInteger readies = new AtomicInteger();
        final AtomicInteger pings = new AtomicInteger();
        volatile Consumer<Connection> onPing;

        Probe(String service, BiConsumer<Connection, String> onLine) {
            super(service, onLine);
        }

        @Override
        public void onOpen(Connection connection) {
            opened.add(connection);
        }

        @Override
        public void onClose(Connection connection) {
            closed.add(connection);
        }

        @Override
        public void onReady(Connection connection) {
            readies.incrementAndGet();
        }

        @Override
        public void ping(Connection connection) {
            pings.incrementAndGet();
            Consumer<Connection> p = onPing;
            if (p == null) {
                super.ping(connection);
            } else {
                p.accept(connection);
            }
        }

        /** The next connection opened, waiting up to 10 seconds. */
        Connection nextOpened() throws InterruptedException {
            Connection c = opened.poll(10, TimeUnit.SECONDS);
            assertNotNull(c, "no connection opened within 10 s");
            return c;
        }

        /** The next connection closed, waiting up to 10 seconds. */
        Connection nextClosed() throws InterruptedException {
            Connection c = closed.poll(10, TimeUnit.SECONDS);
            assertNotNull(c, "no connection closed within 10 s");
            return c;
        }
    }
}
