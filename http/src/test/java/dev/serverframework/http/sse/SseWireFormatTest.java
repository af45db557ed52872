package dev.serverframework.http.sse;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import dev.serverframework.http.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.serverframework.http.HttpTestSupport.assertCleanEof;
import static dev.serverframework.http.HttpTestSupport.assertDate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an SSE route puts on the wire, read strictly off a raw socket: the response head, one chunk per event
 * or comment for HTTP/1.1 and the bare bytes ended by the close for HTTP/1.0, the last chunk and a clean
 * close; what it answers when it opens no stream (HEAD, 403, 405); and that nothing the client sends behind
 * the stream's request is answered into it. In both execution modes.
 */
class SseWireFormatTest {
    private static final SseEvent FULL =
            SseEvent.of("7", "update", "one\r\ntwo\rthree\nfour").withRetry(Duration.ofMillis(2500));
    private static final SseEvent UNICODE = SseEvent.data("héllo €");

    private Server server;
    private final AtomicInteger otherCalls = new AtomicInteger();

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    private RecordingSseHandler start(Execution mode, Consumer<SseStream> onOpen) {
        RecordingSseHandler handler = new RecordingSseHandler(r -> r.queryParam("deny") == null, onOpen);
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .sse("/events", handler)
                .get("/other", r -> {
                    otherCalls.incrementAndGet();
                    return Response.text("other");
                })
                .build());
        return handler;
    }

    /** Sends the events the format tests expect, in this order. */
    private static void sendAll(SseStream s) {
        assertTrue(s.send(FULL));
        assertTrue(s.comment("hello"));
        assertTrue(s.comment("two\nlines"));
        assertTrue(s.send(UNICODE));
        assertTrue(s.send(""));
    }

    private static final List<String> EXPECTED = List.of(
            "id: 7\nevent: update\nretry: 2500\ndata: one\ndata: two\ndata: three\ndata: four\n\n",
            ": hello\n",
            ": two\n: lines\n",
            "data: héllo €\n\n",
            "data: \n\n");

    @ParameterizedTest
    @EnumSource(Execution.class)
    void http11HeadThenOneChunkPerWriteThenTheLastChunkAndAFin(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode, SseWireFormatTest::sendAll);
        try (SseTestClient c = SseTestClient.get(server.port(), "/events")) {
            assertEquals(200, c.readHead());
            assertEquals("text/event-stream", c.header("Content-Type"));
            assertEquals("no-cache", c.header("Cache-Control"));
            assertEquals("no", c.header("X-Accel-Buffering"));
            assertEquals("chunked", c.header("Transfer-Encoding"));
            assertEquals("close", c.header("Connection"), "the stream is the connection's last response");
            assertNull(c.header("Content-Length"));
            assertDate(c.header("Date"));
            for (String expected : EXPECTED) {
                assertEquals(expected, c.readChunk());
            }
            SseStream stream = handler.nextOpened();
            assertEquals(0, handler.openThreadMismatches.get(), "onOpen ran off the connection's executor");
            stream.close();
            assertNull(c.readChunk(), "the last chunk ends the stream");
            assertCleanEof(c.raw);
            assertFalse(stream.isOpen());
            assertFalse(stream.send("late"), "a send after the end is refused");
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void http10GetsTheBareEventsEndedByTheClose(Execution mode) {
        start(mode, s -> {
            sendAll(s);
            s.close();
        });
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET /events HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            String response = new String(c.readToEndCleanly(), StandardCharsets.UTF_8);
            int bodyAt = response.indexOf("\r\n\r\n") + 4;
            String head = response.substring(0, bodyAt).toLowerCase(Locale.ROOT);
            assertTrue(head.startsWith("http/1.1 200 ok\r\n"), head);
            assertTrue(head.contains("\r\ncontent-type: text/event-stream\r\n"), head);
            assertTrue(head.contains("\r\nconnection: close\r\n"), "the close delimits the body: " + head);
            assertFalse(head.contains("transfer-encoding"), head);
            assertFalse(head.contains("content-length"), head);
            assertFalse(head.contains("keep-alive"), head);
            assertEquals(String.join("", EXPECTED), response.substring(bodyAt));
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void theJdkClientReadsTheEventsBack(Execution mode) throws Exception {
        start(mode, s -> {
            s.send(FULL);
            s.comment("ignored");
            s.send(SseEvent.of(null, null, "last\nline"));
            s.close();
        });
        HttpResponse<Stream<String>> res = HttpTestSupport.newClient().send(
                HttpTestSupport.request(server, "/events").header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, res.statusCode());
        assertEquals("text/event-stream", res.headers().firstValue("Content-Type").orElse(null));
        List<String> events = new ArrayList<>();
        try (Stream<String> lines = res.body()) {
            parse(lines.iterator(), events);
        }
        assertEquals(List.of("id=7 event=update retry=2500 data=one\ntwo\nthree\nfour",
                "id=7 event=message retry=2500 data=last\nline"), events);
    }

    /**
     * The client side of the format, as the HTML standard's event-stream interpretation has it (id and retry
     * carry over to later events), each event summed up in a line.
     */
    private static void parse(Iterator<String> lines, List<String> events) {
        String id = "";
        String retry = "";
        String type = "";
        StringBuilder data = new StringBuilder();
        while (lines.hasNext()) {
            String line = lines.next();
            if (line.isEmpty()) {
                if (data.length() > 0) {
                    data.setLength(data.length() - 1);
                    events.add("id=" + id + " event=" + (type.isEmpty() ? "message" : type) + " retry=" + retry
                            + " data=" + data);
                }
                data.setLength(0);
                type = "";
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
                case "id" -> id = value;
                case "event" -> type = value;
                case "retry" -> retry = value;
                case "data" -> data.append(value).append('\n');
                default -> { }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void headGetsTheStreamsHeadAndNoStream(Execution mode) {
        RecordingSseHandler handler = start(mode, s -> { });
        try (RawClient c = new RawClient(server.port())) {
            c.send("HEAD /events HTTP/1.1\r\nHost: localhost\r\n\r\n" + HttpTestSupport.get("/other"));
            RawResponse head = HttpTestSupport.read(c, true);
            assertEquals(200, head.status());
            assertEquals("text/event-stream", head.header("Content-Type"));
            assertEquals("no-cache", head.header("Cache-Control"));
            assertNull(head.header("Connection"), "the connection stays HTTP");
            RawResponse other = HttpTestSupport.read(c);
            assertEquals("other", other.bodyText());
        }
        assertTrue(handler.opened.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aRequestTheHandlerRefusesGets403AndTheConnectionStaysHttp(Execution mode) {
        RecordingSseHandler handler = start(mode, s -> { });
        try (RawClient c = new RawClient(server.port())) {
            c.send(HttpTestSupport.get("/events?deny=1") + HttpTestSupport.get("/other"));
            RawResponse refused = HttpTestSupport.read(c);
            assertEquals(403, refused.status());
            assertFalse(refused.chunked());
            assertEquals("other", HttpTestSupport.read(c).bodyText());
        }
        assertTrue(handler.opened.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void onlyGetOpensAStream(Execution mode) {
        start(mode, s -> { });
        try (RawClient c = new RawClient(server.port())) {
            c.send("POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
            RawResponse r = HttpTestSupport.read(c);
            assertEquals(405, r.status());
            assertTrue(r.header("Allow").contains("GET"), r.header("Allow"));
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aRequestPipelinedBehindTheStreamIsNotAnsweredIntoIt(Execution mode) throws Exception {
        RecordingSseHandler handler = start(mode, s -> s.send("first"));
        for (int i = 0; i < 10; i++) {
            try (SseTestClient c = SseTestClient.request(server.port(), "GET /events HTTP/1.1",
                    "", "GET /other HTTP/1.1", "Host: localhost")) {
                assertEquals(200, c.readHead(), "attempt " + i);
                assertEquals("data: first\n\n", c.readChunk(), "attempt " + i);
                SseStream stream = handler.nextOpened();
                // A request sent once the stream is open reaches no HTTP decoder either.
                c.raw.send(HttpTestSupport.get("/other"));
                assertTrue(stream.send("second"));
                assertEquals("data: second\n\n", c.readChunk(), "attempt " + i);
                stream.close();
                assertNull(c.readChunk(), "attempt " + i + ": the stream ends with its last chunk, nothing after");
                assertCleanEof(c.raw);
            }
        }
        assertEquals(0, otherCalls.get(), "a request behind the stream's was answered");
    }
}
