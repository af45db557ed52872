package dev.serverframework.examples.jmh;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The client of {@link HttpPipelineBenchmark}: one blocking {@link Socket} ({@code TCP_NODELAY}) to a
 * "Hello World!" server on {@code 127.0.0.1}, which writes a batch of pipelined
 * {@code GET / HTTP/1.1} requests in one write and reads until the batch's responses have all arrived.
 *
 * <p>{@link #connect} learns the length of a response from a strict parse of the first one, then checks a
 * full pipelined batch the same way. Every response of a server has that length (its only changing header,
 * {@code Date}, has a fixed width), so {@link #exchange} just counts bytes: it allocates nothing, and what a
 * benchmark measures of allocation is the server's. {@link #verifyLastExchange()} parses the responses of the
 * last exchange strictly, so a run can check after the fact that it measured correct answers. Not
 * thread-safe: one thread uses a client.
 */
final class PipelinedHelloClient implements Closeable {
    /** One request, as the benchmark sends it. */
    static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** The body every response must have. */
    static final byte[] BODY = "Hello World!".getBytes(StandardCharsets.US_ASCII);

    private static final int SETUP_TIMEOUT_MILLIS = 10_000;
    private static final int MAX_HEAD = 8192;

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final int maxBatch;
    /** {@code maxBatch} requests back to back. */
    private final byte[] requests;
    private int responseLength;
    /** Room for {@code maxBatch} responses; an exchange reads its responses here, from offset 0. */
    private byte[] responses;
    private int lastBatch;

    private PipelinedHelloClient(Socket socket, int maxBatch) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
        this.maxBatch = maxBatch;
        this.requests = new byte[maxBatch * REQUEST.length];
        for (int i = 0; i < maxBatch; i++) {
            System.arraycopy(REQUEST, 0, requests, i * REQUEST.length, REQUEST.length);
        }
    }

    /**
     * Connects, measures the response length on one strictly parsed response, and checks a pipelined batch
     * of {@code maxBatch}; then reads block without a timeout.
     *
     * @throws IOException           when the connection fails or times out during these checks
     * @throws IllegalStateException when a response is not a 200 "Hello World!" of the same length
     */
    static PipelinedHelloClient connect(int port, int maxBatch) throws IOException {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), SETUP_TIMEOUT_MILLIS);
            socket.setSoTimeout(SETUP_TIMEOUT_MILLIS);
            PipelinedHelloClient client = new PipelinedHelloClient(socket, maxBatch);
            client.measureResponse();
            client.exchange(maxBatch);
            client.verifyLastExchange();
            client.expectNothingMore();
            socket.setSoTimeout(0);
            return client;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends one request and parses its response strictly; its length is then the length of every response. */
    private void measureResponse() throws IOException {
        out.write(REQUEST);
        byte[] buf = new byte[MAX_HEAD + BODY.length];
        int got = 0;
        int end = -1;
        while (end < 0) {
            if (got == buf.length) {
                throw new IllegalStateException("first response longer than " + buf.length + " bytes: "
                        + ascii(buf, 0, got));
            }
            int n = in.read(buf, got, buf.length - got);
            if (n < 0) {
                throw new EOFException("connection closed after " + got + " bytes of the first response: "
                        + ascii(buf, 0, got));
            }
            got += n;
            end = parseResponse(buf, 0, got);
        }
        if (end != got) {
            throw new IllegalStateException((got - end) + " bytes after the first response: "
                    + ascii(buf, 0, got));
        }
        responseLength = end;
        responses = new byte[maxBatch * responseLength];
    }

    /** Fails when a byte arrives within 100 ms: the server answered more than the responses counted. */
    private void expectNothingMore() throws IOException {
        socket.setSoTimeout(100);
        try {
            int b = in.read();
            throw new IllegalStateException(b < 0 ? "the server closed the connection after a batch"
                    : "a byte arrived after the batch's responses: the responses have no fixed length");
        } catch (SocketTimeoutException expected) {
            // nothing more: as it should be
        } finally {
            socket.setSoTimeout(SETUP_TIMEOUT_MILLIS);
        }
    }

    /**
     * Writes {@code n} pipelined requests in one write, then reads until {@code n} responses' worth of bytes
     * have arrived. Allocates nothing (unless it fails).
     *
     * @return the bytes read
     * @throws EOFException when the server closes the connection
     */
    int exchange(int n) throws IOException {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("batch must be 1 to " + maxBatch + ", got " + n);
        }
        out.write(requests, 0, n * REQUEST.length);
        int want = n * responseLength;
        int got = 0;
        while (got < want) {
            int read = in.read(responses, got, want - got);
            if (read < 0) {
                throw new EOFException("connection closed after " + got + " of " + want + " response bytes");
            }
            got += read;
        }
        lastBatch = n;
        return got;
    }

    /**
     * Parses the responses of the last {@link #exchange} strictly.
     *
     * @throws IllegalStateException when one is not a complete 200 "Hello World!" of the measured length
     */
    void verifyLastExchange() {
        for (int i = 0; i < lastBatch; i++) {
            int from = i * responseLength;
            int end = parseResponse(responses, from, from + responseLength);
            if (end != from + responseLength) {
                throw new IllegalStateException("response " + (i + 1) + " of " + lastBatch + " is "
                        + (end < 0 ? "incomplete" : (end - from) + " bytes, not " + responseLength) + ": "
                        + ascii(responses, from, from + responseLength));
            }
        }
    }

    /** The length of every response, in bytes. */
    int responseLength() {
        return responseLength;
    }

    /** The batch size of the last exchange. */
    int lastBatch() {
        return lastBatch;
    }

    /** The first response of the last exchange, as text (for reports and test messages). */
    String lastResponse() {
        return ascii(responses, 0, responseLength);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /**
     * Parses one response at {@code from} strictly: {@code HTTP/1.1 200 OK}, well-formed header lines, one
     * {@code Content-Length}, no {@code Transfer-Encoding}, no {@code Connection: close}, and the body
     * "Hello World!".
     *
     * @return the offset just past the response, or -1 when {@code [from, to)} holds only part of it
     * @throws IllegalStateException when the bytes are not such a response
     */
    static int parseResponse(byte[] b, int from, int to) {
        int headEnd = -1;
        for (int i = from; i + 3 < to; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                headEnd = i;
                break;
            }
        }
        if (headEnd < 0) {
            if (to - from > MAX_HEAD) {
                throw new IllegalStateException("no end of head in " + MAX_HEAD + " bytes: " + ascii(b, from, to));
            }
            return -1;
        }
        String head = ascii(b, from, headEnd);
        String[] lines = head.split("\r\n", -1);
        if (!lines[0].equals("HTTP/1.1 200 OK")) {
            throw new IllegalStateException("status line is not HTTP/1.1 200 OK: " + head);
        }
        long contentLength = -1;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            if (colon <= 0 || line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0
                    || !line.substring(0, colon).chars().allMatch(PipelinedHelloClient::isTokenChar)) {
                throw new IllegalStateException("malformed header line '" + line + "' in: " + head);
            }
            String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            switch (name) {
                case "content-length" -> {
                    if (contentLength >= 0 || !value.matches("[0-9]{1,9}")) {
                        throw new IllegalStateException("bad or repeated Content-Length in: " + head);
                    }
                    contentLength = Long.parseLong(value);
                }
                case "transfer-encoding" -> throw new IllegalStateException("Transfer-Encoding in: " + head);
                case "connection" -> {
                    if (value.toLowerCase(Locale.ROOT).contains("close")) {
                        throw new IllegalStateException("the server closes the connection: " + head);
                    }
                }
                default -> { }
            }
        }
        if (contentLength != BODY.length) {
            throw new IllegalStateException("Content-Length is not " + BODY.length + ": " + head);
        }
        int bodyFrom = headEnd + 4;
        int end = bodyFrom + BODY.length;
        if (end > to) {
            return -1;
        }
        if (!Arrays.equals(b, bodyFrom, end, BODY, 0, BODY.length)) {
            throw new IllegalStateException("body is not Hello World!: " + ascii(b, from, end));
        }
        return end;
    }

    private static boolean isTokenChar(int c) {
        return c > ' ' && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0;
    }

    private static String ascii(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }
}
