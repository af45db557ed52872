package dev.serverframework.examples.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code bench connections-worker} (hidden): one load process of {@code bench connections}. It opens its share
 * of the connections, sends one keep-alive GET on each, and then obeys one-line commands on stdin, answering
 * each with one line on stdout:
 * <ul>
 *   <li>at start, unasked: {@code OPENED <ok> <failed> <first error>};</li>
 *   <li>{@code SAMPLE n}: n requests, one at a time, on connections spread over its share:
 *       {@code SAMPLED <closed> <errors> <latency µs>...};</li>
 *   <li>{@code PROBE}: one request on every connection the sample did not find dead:
 *       {@code PROBED <ok> <closed> <errors>};</li>
 *   <li>{@code QUIT} or the end of stdin: closes everything and exits.</li>
 * </ul>
 * Blocking sockets, one thread: the connections are idle by design, so nothing needs an event loop, and every
 * read has a timeout so the process cannot hang.
 */
@Command(name = "connections-worker", hidden = true,
        description = "Internal: one load process of 'bench connections'.")
public final class ConnectionsWorker implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LoadWorkerOptions options;

    private final byte[] buf = new byte[64 * 1024];
    private byte[] request;
    private final List<Socket> sockets = new ArrayList<>();
    private final List<Boolean> alive = new ArrayList<>();

    /** Opens the connections, then obeys the commands on stdin until QUIT or its end. */
    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        InetSocketAddress to = options.server();
        int timeoutMs = options.timeoutMs;
        request = options.request();
        int ok = 0;
        int failed = 0;
        String firstError = "-";
        try {
            for (int i = 0; i < options.count; i++) {
                Socket s = new Socket();
                try {
                    InetSocketAddress source = options.source(to, i);
                    if (source != null) {
                        s.bind(source);
                    }
                    s.setTcpNoDelay(true);
                    s.setSoTimeout(timeoutMs);
                    s.connect(to, timeoutMs);
                    exchange(s);
                    sockets.add(s);
                    alive.add(true);
                    ok++;
                } catch (IOException e) {
                    failed++;
                    if (firstError.equals("-")) {
                        firstError = (e.getClass().getSimpleName() + ":" + e.getMessage()).replace(' ', '_');
                    }
                    closeQuietly(s);
                }
            }
            out.println("OPENED " + ok + " " + failed + " " + firstError);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            String line;
            while ((line = in.readLine()) != null) {
                String[] cmd = line.trim().split(" ");
                if (cmd[0].equals("SAMPLE")) {
                    out.println(sample(Integer.parseInt(cmd[1])));
                } else if (cmd[0].equals("PROBE")) {
                    out.println(probe());
                } else if (cmd[0].equals("QUIT")) {
                    break;
                }
                out.flush();
            }
        } finally {
            for (Socket s : sockets) {
                closeQuietly(s);
            }
        }
        return 0;
    }

    /** n requests, one at a time, on connections evenly spread over this worker's share. */
    private String sample(int n) {
        StringBuilder lat = new StringBuilder();
        int closed = 0;
        int errors = 0;
        for (int j = 0; j < n && !sockets.isEmpty(); j++) {
            int i = (int) ((long) j * sockets.size() / Math.max(1, n)) % sockets.size();
            if (!alive.get(i)) {
                continue;
            }
            long start = System.nanoTime();
            try {
                exchange(sockets.get(i));
                lat.append(' ').append((System.nanoTime() - start) / 1000);
            } catch (ClosedByServer e) {
                closed++;
                alive.set(i, false);
            } catch (IOException e) {
                errors++;
                alive.set(i, false);
            }
        }
        return "SAMPLED " + closed + " " + errors + lat;
    }

    /** One request on every connection still open: proves that each was held and still answers. */
    private String probe() {
        int ok = 0;
        int closed = 0;
        int errors = 0;
        for (int i = 0; i < sockets.size(); i++) {
            if (!alive.get(i)) {
                // Already counted when the sample found it closed.
                continue;
            }
            try {
                exchange(sockets.get(i));
                ok++;
            } catch (ClosedByServer e) {
                closed++;
                alive.set(i, false);
            } catch (IOException e) {
                errors++;
                alive.set(i, false);
            }
        }
        return "PROBED " + ok + " " + closed + " " + errors;
    }

    /** Sends the GET and reads one whole response (headers, then Content-Length bytes); expects 200. */
    private void exchange(Socket s) throws IOException {
        OutputStream o;
        InputStream in;
        try {
            o = s.getOutputStream();
            in = s.getInputStream();
            o.write(request);
            o.flush();
        } catch (IOException e) {
            // A write on a connection the server closed fails with a reset or a broken pipe.
            throw new ClosedByServer();
        }
        int have = 0;
        int headerEnd = -1;
        long bodyLength = -1;
        while (true) {
            int r;
            try {
                r = in.read(buf, have, buf.length - have);
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (IOException e) {
                throw new ClosedByServer();
            }
            if (r < 0) {
                throw new ClosedByServer();
            }
            have += r;
            if (headerEnd < 0) {
                headerEnd = indexOfBlankLine(have);
                if (headerEnd >= 0) {
                    String head = new String(buf, 0, headerEnd, StandardCharsets.ISO_8859_1);
                    if (!head.startsWith("HTTP/1.1 200")) {
                        throw new IOException("status " + head.lines().findFirst().orElse(""));
                    }
                    bodyLength = contentLength(head);
                }
            }
            if (headerEnd >= 0 && have - headerEnd - 4 >= bodyLength) {
                return;
            }
            if (have == buf.length) {
                throw new IOException("response larger than " + buf.length + " bytes");
            }
        }
    }

    private int indexOfBlankLine(int have) {
        for (int i = 0; i + 3 < have; i++) {
            if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static long contentLength(String head) throws IOException {
        for (String h : head.split("\r\n")) {
            int c = h.indexOf(':');
            if (c > 0 && h.substring(0, c).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                return Long.parseLong(h.substring(c + 1).trim());
            }
        }
        throw new IOException("no Content-Length: a keep-alive response must have one");
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing at the end; nothing to do about it.
        }
    }

    /** The server closed the connection (end of stream, reset, broken pipe). */
    private static final class ClosedByServer extends IOException {
        ClosedByServer() {
            super("closed by the server");
        }
    }
}
