package dev.serverframework.http.websocket;

import dev.serverframework.core.Server;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A WebSocket client on a plain socket: it writes hand-built frames (the ones Netty's client will not
 * build: unmasked, reserved opcodes, broken lengths, bad close codes, deflate bombs) and parses the server's
 * frames strictly, byte by byte: no mask, FIN set (this server never fragments), no reserved bits but RSV1 on
 * a compressed data message, known opcodes, minimal length encoding, control frames of at most 125 bytes, a
 * close body that is empty or a sendable code with UTF-8, text that is UTF-8. Every read is bounded in time.
 */
final class RawWs implements Closeable {
    static final int CONTINUATION = 0x0;
    static final int TEXT = 0x1;
    static final int BINARY = 0x2;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;
    static final byte[] DEFLATE_TAIL = {0x00, 0x00, (byte) 0xFF, (byte) 0xFF};

    /** The handshake's key and the accept value RFC 6455 1.3 gives for it. */
    static final String SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    static final String SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    /** A frame as read from the wire. */
    record Frame(boolean fin, int rsv, int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode() {
            return payload.length < 2 ? -1 : (payload[0] & 0xFF) << 8 | payload[1] & 0xFF;
        }

        String closeReason() {
            return payload.length <= 2 ? "" : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "frame opcode " + opcode + " fin " + fin + " rsv " + rsv + " length " + payload.length
                    + (opcode == CLOSE ? " code " + closeCode() + " \"" + closeReason() + "\"" : "");
        }
    }

    /** A response head as read from the wire. */
    record Head(int status, String statusLine, Map<String, List<String>> headers) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.get(0);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    /** Whether permessage-deflate was agreed: server messages may then carry RSV1. */
    boolean compressed;
    /** The server's compression context (context takeover): one inflater for the connection. */
    private final Inflater inflater = new Inflater(true);
    Head handshake;

    private RawWs(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new java.io.BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A TCP connection to the server, not yet upgraded; {@code receiveBuffer} 0 for the default. */
    static RawWs connect(Server server, int receiveBuffer) {
        try {
            Socket s = new Socket();
            if (receiveBuffer > 0) {
                s.setReceiveBufferSize(receiveBuffer);
            }
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            return new RawWs(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Connects and upgrades with a valid handshake and these extra header lines; asserts the 101. */
    static RawWs open(Server server, String path, String... headerLines) {
        RawWs ws = connect(server, 0);
        ws.send(handshake(path, headerLines));
        ws.expectSwitch();
        return ws;
    }

    /** A valid handshake request with the RFC's sample key and these extra header lines. */
    static byte[] handshake(String path, String... headerLines) {
        StringBuilder sb = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: " + SAMPLE_KEY + "\r\nSec-WebSocket-Version: 13\r\n");
        for (String h : headerLines) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads the 101 answer to a valid handshake and checks its fields. */
    Head expectSwitch() {
        Head h = readHead();
        assertEquals(101, h.status(), "not switched: " + h.statusLine() + " " + h.headers());
        assertEquals("websocket", h.header("upgrade").toLowerCase(Locale.ROOT));
        assertTrue(h.header("connection").toLowerCase(Locale.ROOT).contains("upgrade"));
        assertEquals(SAMPLE_ACCEPT, h.header("sec-websocket-accept"));
        assertFalse(h.headers().containsKey("content-length"), "a 101 has no body: " + h.headers());
        assertFalse(h.headers().containsKey("transfer-encoding"), "a 101 has no body: " + h.headers());
        String ext = h.header("sec-websocket-extensions");
        compressed = ext != null && ext.startsWith("permessage-deflate");
        handshake = h;
        return h;
    }

    /** Reads a response head: status line and fields, up to the empty line. */
    Head readHead() {
        String status = readLine();
        if (status == null) {
            fail("connection closed before a response");
        }
        assertTrue(status.startsWith("HTTP/1.1 "), "bad status line: " + status);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while (!(line = readLine()).isEmpty()) {
            int colon = line.indexOf(':');
            assertTrue(colon > 0, "bad field line: " + line);
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        return new Head(Integer.parseInt(status.substring(9, 12)), status, headers);
    }

    /** Reads a body of the head's Content-Length. */
    String readBody(Head h) {
        String cl = h.header("content-length");
        assertTrue(cl != null, "no Content-Length: " + h.headers());
        return new String(readExactly(Integer.parseInt(cl)), StandardCharsets.UTF_8);
    }

    private String readLine() {
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
        String s = line.toString(StandardCharsets.ISO_8859_1);
        assertTrue(s.endsWith("\r"), "line not ended by CRLF: " + s);
        return s.substring(0, s.length() - 1);
    }

    RawWs send(byte[]... chunks) {
        try {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] c : chunks) {
                all.write(c);
            }
            out.write(all.toByteArray());
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- frames the client sends ----

    /** A masked frame with a random mask: first byte {@code fin|rsv|opcode}, exact payload. */
    static byte[] frame(boolean fin, int rsv, int opcode, byte[] payload) {
        return frame((fin ? 0x80 : 0) | rsv << 4 | opcode, true, payload);
    }

    /** A final, masked frame without reserved bits. */
    static byte[] frame(int opcode, byte[] payload) {
        return frame(true, 0, opcode, payload);
    }

    static byte[] text(String s) {
        return frame(TEXT, s.getBytes(StandardCharsets.UTF_8));
    }

    /** A close frame with this code (as two bytes, whatever it is) and reason. */
    static byte[] close(int code, String reason) {
        return frame(CLOSE, closeBody(code, reason.getBytes(StandardCharsets.UTF_8)));
    }

    static byte[] closeBody(int code, byte[] reason) {
        byte[] p = new byte[2 + reason.length];
        p[0] = (byte) (code >>> 8);
        p[1] = (byte) code;
        System.arraycopy(reason, 0, p, 2, reason.length);
        return p;
    }

    /**
     * A frame from its first byte, masked or not, with the payload length in the shortest encoding and
     * a random non-zero mask (a zero mask would leave the payload readable even by a server that ignores it).
     */
    static byte[] frame(int firstByte, boolean masked, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(firstByte);
        int m = masked ? 0x80 : 0;
        int n = payload.length;
        if (n < 126) {
            f.write(m | n);
        } else if (n < 65536) {
            f.write(m | 126);
            f.write(n >>> 8);
            f.write(n);
        } else {
            f.write(m | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) ((long) n >>> (8 * i)));
            }
        }
        byte[] body = payload.clone();
        if (masked) {
            byte[] mask = new byte[4];
            do {
                ThreadLocalRandom.current().nextBytes(mask);
            } while (mask[0] == 0 && mask[1] == 0 && mask[2] == 0 && mask[3] == 0);
            f.writeBytes(mask);
            for (int i = 0; i < body.length; i++) {
                body[i] ^= mask[i & 3];
            }
        }
        f.writeBytes(body);
        return f.toByteArray();
    }

    /** Bytes compressed as one permessage-deflate message (RFC 7692 7.2.1): raw deflate, sync flush, tail removed. */
    static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        d.setInput(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        do {
            n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
            out.write(buf, 0, n);
        } while (n == buf.length || !d.needsInput());
        d.end();
        byte[] all = out.toByteArray();
        assertTrue(all.length >= 4 && Arrays.equals(DEFLATE_TAIL, Arrays.copyOfRange(all, all.length - 4, all.length)));
        return Arrays.copyOf(all, all.length - 4);
    }

    // ---- frames the server sends ----

    /**
     * Reads the server's next frame and checks it strictly; a compressed data message is returned inflated
     * (with its RSV1 bit reported).
     */
    Frame read() {
        int b0 = readByte();
        int b1 = readByte();
        boolean fin = (b0 & 0x80) != 0;
        int rsv = (b0 >> 4) & 0x7;
        int opcode = b0 & 0xF;
        assertTrue(opcode == TEXT || opcode == BINARY || opcode == CLOSE || opcode == PING || opcode == PONG,
                "server sent opcode " + opcode);
        assertTrue(fin, "server sent a fragment (FIN clear), opcode " + opcode);
        assertTrue(rsv == 0 || compressed && rsv == 4 && (opcode == TEXT || opcode == BINARY),
                "server set reserved bits " + rsv + " on opcode " + opcode);
        assertEquals(0, b1 & 0x80, "server frames must not be masked");
        long len = b1 & 0x7F;
        if (len == 126) {
            len = (readByte() << 8) | readByte();
            assertTrue(len >= 126, "length " + len + " not in its shortest encoding");
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = len << 8 | readByte();
            }
            assertTrue(len >= 65536, "length " + len + " not in its shortest encoding");
        }
        if (opcode >= CLOSE) {
            assertTrue(len <= 125, "control frame of " + len + " bytes");
        }
        assertTrue(len < 256 << 20, "frame of " + len + " bytes");
        byte[] payload = readExactly((int) len);
        if (rsv == 4) {
            payload = inflate(payload);
        }
        if (opcode == TEXT) {
            assertUtf8(payload, 0);
        } else if (opcode == CLOSE) {
            assertTrue(payload.length != 1, "close frame with a 1-byte body");
            if (payload.length >= 2) {
                int code = (payload[0] & 0xFF) << 8 | payload[1] & 0xFF;
                assertTrue(code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999,
                        "server sent close code " + code);
                assertUtf8(payload, 2);
            }
        }
        return new Frame(fin, rsv, opcode, payload);
    }

    /** The next frame other than a ping (which the server may send when idle). */
    Frame readData() {
        Frame f;
        do {
            f = read();
        } while (f.opcode() == PING);
        return f;
    }

    String readText() {
        Frame f = readData();
        assertEquals(TEXT, f.opcode(), "expected text, got " + f);
        return f.text();
    }

    /** The next frame must be a close frame with this code. */
    Frame expectClose(int code) {
        Frame f = readData();
        assertEquals(CLOSE, f.opcode(), "expected a close frame, got " + f);
        assertEquals(code, f.closeCode(), "close code; reason \"" + f.closeReason() + "\"");
        return f;
    }

    /** A close frame with this code, then a clean end of stream (the server closes TCP after it). */
    Frame expectCloseAndEof(int code) {
        Frame f = expectClose(code);
        expectEof();
        return f;
    }

    /** The server ended the connection with a FIN and sent nothing more. */
    void expectEof() {
        byte[] rest = new byte[256];
        int n;
        try {
            n = in.read(rest);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection within the read timeout");
        } catch (IOException e) {
            throw new AssertionError("the connection ended with a reset instead of a clean close: " + e, e);
        }
        if (n >= 0) {
            fail(n + " bytes where the end of stream was expected: " + Arrays.toString(Arrays.copyOf(rest, n)));
        }
    }

    private byte[] inflate(byte[] compressed) {
        inflater.setInput(concat(compressed, DEFLATE_TAIL));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            do {
                n = inflater.inflate(buf);
                out.write(buf, 0, n);
            } while (n > 0);
        } catch (DataFormatException e) {
            throw new AssertionError("server sent a message that does not inflate", e);
        }
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return all.toByteArray();
    }

    private static void assertUtf8(byte[] bytes, int offset) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, offset, bytes.length - offset));
        } catch (CharacterCodingException e) {
            fail("server sent text that is not UTF-8");
        }
    }

    private int readByte() {
        try {
            int b = in.read();
            if (b < 0) {
                fail("connection closed in the middle of (or before) a frame");
            }
            return b;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no frame from the server within the read timeout");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    byte[] readExactly(int n) {
        byte[] buf = new byte[n];
        int off = 0;
        try {
            while (off < n) {
                int r = in.read(buf, off, n - off);
                if (r < 0) {
                    fail("connection closed after " + off + " of " + n + " bytes");
                }
                off += r;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf;
    }

    /** True when nothing arrives within {@code millis}; false when bytes arrive or the connection ends. */
    boolean silentFor(int millis) {
        try {
            socket.setSoTimeout(millis);
            in.mark(1);
            in.read();
            in.reset();
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            try {
                socket.setSoTimeout(10_000);
            } catch (IOException ignored) {
                // the socket is gone: the next read says so
            }
        }
    }

    Socket socket() {
        return socket;
    }

    /** The accept value for a key (RFC 6455 4.2.2). */
    static String accept(String key) throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
        return Base64.getEncoder().encodeToString(d);
    }

    @Override
    public void close() {
        inflater.end();
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test socket
        }
    }
}
