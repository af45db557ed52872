package dev.serverframework.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A blocking TCP client on a plain socket, for tests: exact bytes in and out, every read bounded in time. */
public final class RawClient implements Closeable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** Connects to 127.0.0.1:{@code port} with a 10-second read timeout. */
    public RawClient(int port) {
        try {
            socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Socket socket() {
        return socket;
    }

    public RawClient send(String text) {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    public RawClient send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads exactly {@code n} bytes or fails. */
    public byte[] readExactly(int n) {
        byte[] buf = new byte[n];
        int off = 0;
        try {
            while (off < n) {
                int r = in.read(buf, off, n - off);
                if (r < 0) {
                    throw new AssertionError("connection closed after " + off + " of " + n + " bytes: "
                            + new String(buf, 0, off, StandardCharsets.UTF_8));
                }
                off += r;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf;
    }

    /** Reads exactly as many bytes as {@code expected} has, as UTF-8 text. */
    public String readText(int bytes) {
        return new String(readExactly(bytes), StandardCharsets.UTF_8);
    }

    /** Reads one line ending in '\n' (returned without it). */
    public String readLine() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                line.write(b);
            }
            if (b < 0 && line.size() == 0) {
                return null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String s = line.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Reads until the server closes the connection (end of stream or reset); returns everything read. */
    public byte[] readToEnd() {
        return readAll(false);
    }

    /** Reads until the server's end of stream; fails if the connection was reset instead. */
    public byte[] readToEndCleanly() {
        return readAll(true);
    }

    private byte[] readAll(boolean failOnReset) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int r;
            while ((r = in.read(buf)) >= 0) {
                all.write(buf, 0, r);
            }
        } catch (SocketException reset) {
            if (failOnReset) {
                throw new AssertionError("the connection ended with " + reset + " after " + all.size() + " bytes: "
                        + all.toString(StandardCharsets.UTF_8), reset);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all.toByteArray();
    }

    /** True if the server closed the connection (EOF or reset) within the read timeout. */
    public boolean isClosedByServer() {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * Closes abortively: the kernel sends a reset, so the server learns at once that the client is gone
     * (a plain close sends a FIN, which a server allowing half-closure reads as "no more input").
     */
    public void reset() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test socket
        }
    }
}
