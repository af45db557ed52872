package dev.serverframework.examples;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Server-Sent Events client on the JDK's {@code HttpClient}, parsing {@code text/event-stream} as a
 * browser's EventSource does (id, event, data, retry; comments ignored) into a queue of events, read with a
 * deadline. {@link #ended} completes when the server ends the stream.
 */
final class SseClient implements AutoCloseable {
    /** One dispatched event; {@code id} is the last event id as the browser would keep it. */
    record Event(String id, String type, String data, String retry) {
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final int status;
    private final Thread reader;
    private final Stream<String> body;

    private SseClient(HttpResponse<Stream<String>> response) {
        this.status = response.statusCode();
        this.body = response.body();
        this.reader = new Thread(this::read, "sse-client");
        reader.setDaemon(true);
        reader.start();
    }

    /** Opens a stream, sending {@code Last-Event-ID} when {@code lastEventId} is not null. */
    static SseClient open(HttpClient http, URI uri, String lastEventId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        return new SseClient(http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofLines()).get(10, TimeUnit.SECONDS));
    }

    int status() {
        return status;
    }

    private void read() {
        String lastId = "";
        String type = null;
        String retry = null;
        StringBuilder data = null;
        try {
            Iterator<String> lines = body.iterator();
            while (lines.hasNext()) {
                String line = lines.next();
                if (line.isEmpty()) {
                    if (data != null) {
                        events.add(new Event(lastId, type == null ? "message" : type, data.toString(), retry));
                    }
                    type = null;
                    retry = null;
                    data = null;
                    continue;
                }
                if (line.startsWith(":")) {
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                if (value.startsWith(" ")) {
                    value = value.substring(1);
                }
                switch (field) {
                    case "id" -> lastId = value;
                    case "event" -> type = value;
                    case "retry" -> retry = value;
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    default -> {
                    }
                }
            }
            ended.complete(null);
        } catch (RuntimeException e) {
            // The connection was cut rather than ended: still the end of this stream.
            ended.complete(null);
        }
    }

    /** The next event, waiting up to 10 s for it. */
    Event next() throws InterruptedException {
        Event e = events.poll(10, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("no event within 10 s" + (ended.isDone() ? "; the stream has ended" : ""));
        }
        return e;
    }

    /** The data of the next event, which must be a chat line (type {@code message}). */
    String line() throws InterruptedException {
        Event e = next();
        if (!e.type().equals("message")) {
            throw new AssertionError("expected a chat line, got " + e);
        }
        return e.data();
    }

    /** Waits up to 10 s for the server to end the stream. */
    void awaitEnd() throws Exception {
        ended.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        body.close();
        reader.interrupt();
    }
}
