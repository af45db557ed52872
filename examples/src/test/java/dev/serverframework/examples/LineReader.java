package dev.serverframework.examples;

import dev.serverframework.core.testing.RawClient;

import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A line client of a chat whose lines are read by a thread of its own into a queue, so that a test can wait
 * for a line with a deadline of its choosing, and take the lines it cares about (one sender's, say) in
 * their order, leaving the others for later.
 */
final class LineReader implements Closeable {
    private static final String END = "\u0000end of stream";

    final RawClient client;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    /** Lines read but not yet wanted by a poll, in the order they came: a later poll may want them. */
    private final List<String> unread = new ArrayList<>();

    LineReader(int port) {
        this.client = new RawClient(port);
        Thread reader = new Thread(() -> {
            try {
                String line;
                while ((line = client.readLine()) != null) {
                    lines.add(line);
                }
            } catch (RuntimeException closedOrTimedOut) {
                // the socket closed under us, or stayed quiet past RawClient's read timeout: the test decides
            }
            lines.add(END);
        }, "chat-line-reader");
        reader.setDaemon(true);
        reader.start();
    }

    LineReader say(String line) {
        client.send(line + "\n");
        return this;
    }

    /**
     * The first line not yet taken that matches, or null after {@code timeout}; lines that do not match stay
     * for later polls.
     */
    String poll(Predicate<String> wanted, Duration timeout) throws InterruptedException {
        for (int i = 0; i < unread.size(); i++) {
            if (wanted.test(unread.get(i))) {
                return unread.remove(i);
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals(END)) {
                if (line != null) {
                    lines.add(END);
                }
                return null;
            }
            if (wanted.test(line)) {
                return line;
            }
            unread.add(line);
        }
    }

    /** The first line not yet taken that matches; fails after 10 s saying what else came. */
    String await(Predicate<String> wanted, String what) throws InterruptedException {
        String line = poll(wanted, Duration.ofSeconds(10));
        if (line == null) {
            throw new AssertionError("no line " + what + " within 10 s; other lines: " + unread);
        }
        return line;
    }

    /** The next line starting with {@code prefix}. */
    String awaitStartingWith(String prefix) throws InterruptedException {
        return await(l -> l.startsWith(prefix), "starting with '" + prefix + "'");
    }

    @Override
    public void close() {
        client.close();
    }
}
