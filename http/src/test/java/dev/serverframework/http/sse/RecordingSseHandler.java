package dev.serverframework.http.sse;

import dev.serverframework.http.Request;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * An SSE handler for tests: accepts what its predicate accepts, runs an action on each open, and records
 * the streams opened and how many times each was reported closed.
 */
final class RecordingSseHandler implements SseHandler {
    final LinkedBlockingQueue<SseStream> opened = new LinkedBlockingQueue<>();
    final Map<SseStream, AtomicInteger> closes = new ConcurrentHashMap<>();
    final AtomicInteger openThreadMismatches = new AtomicInteger();
    private final Predicate<Request> accept;
    private final Consumer<SseStream> onOpen;

    RecordingSseHandler(Predicate<Request> accept, Consumer<SseStream> onOpen) {
        this.accept = accept;
        this.onOpen = onOpen;
    }

    RecordingSseHandler(Consumer<SseStream> onOpen) {
        this(r -> true, onOpen);
    }

    RecordingSseHandler() {
        this(s -> { });
    }

    @Override
    public boolean accept(Request request) {
        return accept.test(request);
    }

    @Override
    public void onOpen(SseStream stream) {
        if (!stream.connection().executor().inEventLoop()) {
            openThreadMismatches.incrementAndGet();
        }
        onOpen.accept(stream);
        opened.add(stream);
    }

    @Override
    public void onClose(SseStream stream) {
        closes.computeIfAbsent(stream, s -> new AtomicInteger()).incrementAndGet();
    }

    /** How many times {@code stream} was reported closed. */
    int closeCount(SseStream stream) {
        AtomicInteger n = closes.get(stream);
        return n == null ? 0 : n.get();
    }

    /** The next stream opened, within 10 seconds. */
    SseStream nextOpened() throws InterruptedException {
        SseStream s = opened.poll(10, TimeUnit.SECONDS);
        assertNotNull(s, "no stream opened within 10 s");
        return s;
    }
}
