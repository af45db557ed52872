package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.serverframework.http.HttpTestSupport.assertCleanEof;
import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The request rules of RFC 9112 that nginx enforces and Netty's decoder lets through: obsolete line
 * folding, a version other than 1.0 and 1.1, a protocol name other than exactly {@code HTTP}, and a missing
 * or repeated {@code Host}. Each case, in both execution modes, gets its status with {@code Connection:
 * close}, a clean close, and one protocol error counted; sent behind a valid request on the same
 * connection, it is answered after that request's 200.
 */
class RequestRulesTest {
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder()
                .execution(mode)
                .get("/", r -> Response.text("Hello World!"))
                .post("/echo", r -> Response.text("echo:" + r.bodyText()))
                .build());
    }

    private long protocolErrors() {
        return server.statistics().service("http").protocolErrors();
    }

    static Stream<Arguments> badRequests() {
        List<Arguments> cases = new ArrayList<>();
        // Obsolete line folding: a field line that starts with SP or HTAB.
        cases.add(Arguments.of("folded with a space", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  more\r\n\r\n", 400));
        cases.add(Arguments.of("folded with a tab", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tmore\r\n\r\n", 400));
        cases.add(Arguments.of("folded Host", "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", 400));
        cases.add(Arguments.of("whitespace before the first field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400));
        cases.add(Arguments.of("folded, with a body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                + "X-A: 1\r\n\t2\r\n\r\nhello", 400));
        cases.add(Arguments.of("folded, HTTP/1.0", "GET / HTTP/1.0\r\nX-A: 1\r\n 2\r\n\r\n", 400));
        // A version this server does not speak, in HTTP/1 syntax.
        for (String version : List.of("HTTP/2.0", "HTTP/1.2", "HTTP/3.0", "HTTP/0.9", "HTTP/1.9")) {
            cases.add(Arguments.of(version, "GET / " + version + "\r\nHost: x\r\n\r\n", 505));
        }
        // A protocol name that is not exactly HTTP, or a version that is not DIGIT.DIGIT.
        for (String version : List.of("http/1.1", "Http/1.1", "HTTPS/1.1", "XTTP/1.1", "HTTP/11", "HTTP/1.10",
                "HTTP/a.b")) {
            cases.add(Arguments.of(version, "GET / " + version + "\r\nHost: x\r\n\r\n", 400));
        }
        // Host: required in HTTP/1.1, never more than once.
        cases.add(Arguments.of("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400));
        cases.add(Arguments.of("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400));
        cases.add(Arguments.of("two equal Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400));
        cases.add(Arguments.of("two Hosts, HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", 400));
        List<Arguments> both = new ArrayList<>();
        for (Execution mode : Execution.values()) {
            for (Arguments c : cases) {
                Object[] a = c.get();
                both.add(Arguments.of(mode, a[0], a[1], a[2]));
            }
        }
        return both.stream();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("badRequests")
    void isAnsweredWithItsStatusAndClosed(Execution mode, String name, String request, int status) {
        start(mode);
        long before = protocolErrors();
        try (RawClient c = new RawClient(server.port())) {
            c.send(request);
            assertRejected(c, status);
        }
        Await.until("one protocol error counted", Duration.ofSeconds(5), () -> protocolErrors() == before + 1);

        // Behind a valid request on the same connection: that one is answered first, and kept alive.
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/") + request);
            RawResponse ok = read(c);
            assertEquals(200, ok.status(), ok.statusLine());
            assertEquals("Hello World!", ok.bodyText());
            assertNull(ok.header("Connection"), "the valid request's response keeps the connection");
            assertRejected(c, status);
        }
        Await.until("a second protocol error counted", Duration.ofSeconds(5), () -> protocolErrors() == before + 2);

        // The server goes on.
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/"));
            assertEquals("Hello World!", read(c).bodyText());
        }
    }

    private static void assertRejected(RawClient c, int status) {
        RawResponse r = read(c);
        assertEquals(status, r.status(), r.statusLine());
        assertEquals("close", r.header("Connection"), r.statusLine());
        assertEquals(r.header("Content-Length"), String.valueOf(r.body().length));
        assertCleanEof(c);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aFoldSentInALaterPieceIsStillFound(Execution mode) {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n");
            c.send("\tmore\r\n");
            c.send("\r\n");
            assertRejected(c, 400);
        }
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void whatTheRulesAllowIsServed(Execution mode) {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            // HTTP/1.0 needs no Host; whitespace inside a value and around it is no fold.
            c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-A: a \t b \r\n\r\n");
            RawResponse r = read(c);
            assertEquals(200, r.status());
            assertEquals("keep-alive", r.header("Connection"));
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nX-B:\tv\r\nContent-Length: 3\r\n\r\n a ");
            assertEquals("echo: a ", read(c).bodyText(), "a body starting with a space is no field line");
            c.send("\r\n" + get("/"));
            assertEquals("Hello World!", read(c).bodyText(), "an empty line before a request line is ignored");
        }
    }
}
