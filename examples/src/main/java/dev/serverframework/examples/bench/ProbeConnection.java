package dev.serverframework.examples.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One connection of a {@link StopProbe} run and the thread that drives it: its closed loop of requests and
 * replies, and the classification of how it ended ({@link StopOutcome}), recorded exactly once.
 *
 * <p>A non-blocking socket with a selector of its own, so that no read blocks past the deadline and so that,
 * before sending each request, the connection can look for an EOF or a reset that has already arrived without
 * waiting: that is what tells "the server closed between replies" ({@link StopOutcome#CLOSED_AFTER_ANSWER})
 * from "the server closed with our request outstanding" ({@link StopOutcome#CLOSED_UNANSWERED}). A read
 * returning -1 is a clean EOF; an {@link IOException} saying "Connection reset" or "Broken pipe", from a read
 * or a write, is a reset.
 *
 * <p>Its fields but {@link #end} belong to its thread; {@link #abandon()} is the run's.
 */
final class ProbeConnection {
    /** What {@link #read} returns when the deadline passed first. */
    private static final int DEADLINE = Integer.MIN_VALUE;
    /** How long one wait for the socket lasts at most, so the deadline is seen soon after it passes. */
    private static final long POLL_MILLIS = 100;

    private final int index;
    private final SocketChannel ch;
    private final byte[] request;
    private final ReplyFramer framer;
    private final StopClock clock;
    private final CountDownLatch allEnded;
    private final AtomicReference<StopResult.ConnectionEnd> end = new AtomicReference<>();
    private volatile Selector selector;
    private volatile boolean abandoned;
    /** Bytes of the current reply received so far, in {@link #buf}. */
    private int n;
    private byte[] buf = new byte[4096];
    /** Volatile: {@link #abandon()} reads it from the run's thread. */
    private volatile boolean outstanding;
    private boolean closeSaid;
    private volatile long responsesBefore;
    private volatile long responsesAfter;
    private volatile long closeAfter;
    private volatile long unexpected;

    /**
     * @param index    the connection's number, for the report
     * @param ch       its socket, connected and non-blocking
     * @param request  what it sends, again and again
     * @param framer   how it tells a complete reply
     * @param clock    the run's stop and deadline
     * @param allEnded counted down once when the connection's ending is recorded
     */
    ProbeConnection(int index, SocketChannel ch, byte[] request, ReplyFramer framer, StopClock clock,
                    CountDownLatch allEnded) {
        this.index = index;
        this.ch = ch;
        this.request = request;
        this.framer = framer;
        this.clock = clock;
        this.allEnded = allEnded;
    }

    /** The connection's number. */
    int index() {
        return index;
    }

    /** How it ended; null until recorded. */
    StopResult.ConnectionEnd end() {
        return end.get();
    }

    /**
     * The closed loop, on the connection's own thread: a request, its whole reply, and a look for anything that
     * arrived unasked before the next request, until the connection ends or the deadline passes; records how
     * it ended, exactly once.
     */
    void loop() {
        String phase = "between replies";
        try (Selector sel = Selector.open()) {
            selector = sel;
            SelectionKey key = ch.register(sel, SelectionKey.OP_READ);
            if (abandoned) {
                return;
            }
            while (true) {
                if (closeSaid) {
                    phase = "after a Connection: close response";
                    int r = read(false);
                    if (r == -1) {
                        finish(StopOutcome.ANSWERED_CLOSE, false, null);
                    } else if (r == DEADLINE) {
                        finish(StopOutcome.STILL_OPEN, false, "no EOF after a Connection: close response");
                    } else {
                        finish(StopOutcome.BAD_RESPONSE, false, r + " byte(s) after a Connection: close "
                                + "response: " + ReplyFramer.printable(buf, 0, Math.min(r, 40)));
                    }
                    return;
                }
                // Anything that arrived since the last reply (EOF, reset, bytes) arrived before the next
                // request: the server ended the connection between replies, or sent what nobody asked for.
                phase = "between replies";
                n = 0;
                int p = ch.read(ByteBuffer.wrap(buf));
                if (p == -1) {
                    finish(StopOutcome.CLOSED_AFTER_ANSWER, false, null);
                    return;
                }
                if (p > 0) {
                    finish(StopOutcome.BAD_RESPONSE, false, p + " byte(s) arrived with no request "
                            + "outstanding: " + ReplyFramer.printable(buf, 0, Math.min(p, 40)));
                    return;
                }
                if (clock.leftNanos() <= 0) {
                    finish(StopOutcome.STILL_OPEN, false, "the server kept the connection open and "
                            + "answered " + responsesAfter + " request(s) after the stop");
                    return;
                }
                phase = "while sending a request";
                outstanding = true;
                framer.reset();
                if (!write(key)) {
                    finish(StopOutcome.STILL_OPEN, true, "the request could not be sent by the deadline");
                    return;
                }
                key.interestOps(SelectionKey.OP_READ);
                phase = "while waiting for the reply";
                while (true) {
                    int r = read(true);
                    if (r == -1) {
                        if (n == 0) {
                            finish(StopOutcome.CLOSED_UNANSWERED, true, null);
                        } else {
                            finish(StopOutcome.TRUNCATED, true, "EOF after " + n + " byte(s) of the reply: "
                                    + ReplyFramer.printable(buf, 0, Math.min(n, 60)));
                        }
                        return;
                    }
                    if (r == DEADLINE) {
                        finish(StopOutcome.STILL_OPEN, true, n == 0 ? "no reply by the deadline"
                                : n + " byte(s) of the reply by the deadline");
                        return;
                    }
                    n += r;
                    int len = framer.complete(buf, n);
                    if (len > 0) {
                        if (n > len) {
                            finish(StopOutcome.BAD_RESPONSE, true, (n - len) + " byte(s) beyond the reply: "
                                    + ReplyFramer.printable(buf, len, Math.min(n - len, 40)));
                            return;
                        }
                        replied();
                        break;
                    }
                }
            }
        } catch (ReplyFramer.BadReply e) {
            finish(StopOutcome.BAD_RESPONSE, outstanding, e.getMessage());
        } catch (ClosedChannelException | ClosedSelectorException e) {
            if (!abandoned) {
                finish(StopOutcome.ERROR, outstanding, "socket closed by the probe: " + e);
            }
        } catch (IOException e) {
            if (abandoned) {
                return;
            }
            if (!isReset(e)) {
                finish(StopOutcome.ERROR, outstanding, phase + ": " + describe(e));
            } else if (outstanding && n > 0) {
                finish(StopOutcome.TRUNCATED, true, "reset after " + n + " byte(s) of the reply: "
                        + ReplyFramer.printable(buf, 0, Math.min(n, 60)));
            } else {
                finish(StopOutcome.RESET, outstanding, "reset " + phase + " (" + e.getMessage() + ")");
            }
        } catch (RuntimeException e) {
            if (!abandoned) {
                finish(StopOutcome.ERROR, outstanding, "probe failure: " + e);
            }
        } finally {
            closeQuietly();
        }
    }

    private void replied() {
        outstanding = false;
        n = 0;
        closeSaid = framer.saysClose();
        if (framer.unexpected() != null) {
            unexpected++;
        }
        if (clock.stopped()) {
            responsesAfter++;
            if (closeSaid) {
                closeAfter++;
            }
        } else {
            responsesBefore++;
        }
    }

    /**
     * Reads into {@link #buf} after the {@link #n} bytes already there, waiting for bytes at most until
     * the deadline.
     *
     * @param grow true to make room when the buffer is full (a reply longer than the buffer)
     * @return the number of bytes read, -1 at EOF, or {@link #DEADLINE}
     */
    private int read(boolean grow) throws IOException, ReplyFramer.BadReply {
        if (n == buf.length) {
            if (!grow || buf.length >= 2 * ReplyFramer.MAX_REPLY) {
                throw new ReplyFramer.BadReply("reply longer than " + buf.length + " bytes");
            }
            buf = Arrays.copyOf(buf, buf.length * 2);
        }
        ByteBuffer into = ByteBuffer.wrap(buf, n, buf.length - n);
        while (true) {
            int r = ch.read(into);
            if (r != 0) {
                return r;
            }
            if (!await()) {
                return DEADLINE;
            }
        }
    }

    /** Sends the whole request, waiting for room at most until the deadline; false if it passed. */
    private boolean write(SelectionKey key) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(request);
        while (true) {
            ch.write(out);
            if (!out.hasRemaining()) {
                return true;
            }
            key.interestOps(SelectionKey.OP_WRITE);
            if (!await()) {
                return false;
            }
        }
    }

    /** One bounded wait for the socket; false when the deadline has passed. */
    private boolean await() throws IOException {
        long left = clock.leftNanos();
        if (left <= 0) {
            return false;
        }
        long millis = Math.max(1, Math.min(POLL_MILLIS, TimeUnit.NANOSECONDS.toMillis(left) + 1));
        selector.select(millis);
        selector.selectedKeys().clear();
        return true;
    }

    /** Records the ending, unless one is recorded already (exactly once). */
    private void finish(StopOutcome outcome, boolean requestOutstanding, String detail) {
        long now = System.nanoTime();
        boolean after = clock.stopped();
        double endMillis = after && outcome != StopOutcome.STILL_OPEN ? clock.millisSinceStop(now) : Double.NaN;
        StopResult.ConnectionEnd e = new StopResult.ConnectionEnd(index, outcome, requestOutstanding, !after,
                endMillis, responsesBefore, responsesAfter, closeAfter, unexpected, detail);
        if (end.compareAndSet(null, e)) {
            allEnded.countDown();
        }
    }

    /** Called by the run at the deadline: a connection not ended yet is STILL_OPEN; closes its socket. */
    void abandon() {
        if (end.get() == null) {
            abandoned = true;
            finish(StopOutcome.STILL_OPEN, outstanding, "the probe's thread had not ended at the deadline");
        }
        closeQuietly();
    }

    void closeQuietly() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // Closing our own socket: nothing to report.
        }
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    /** True for the errors a reset (RST) gives: ECONNRESET on a read or write, EPIPE on a write. */
    static boolean isReset(IOException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return m.contains("connection reset") || m.contains("broken pipe")
                || e.getClass().getName().endsWith("ConnectionResetException");
    }

    /** An I/O failure for a person: its type and message. */
    static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
