package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * 204, 205 and 304 never carry content (RFC 9110 15): a handler that gives one a body anyway gets it dropped,
 * and the connection's next response is read where it starts.
 */
class NoContentStatusTest {
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void aBodyGivenTo204205Or304IsNotSent(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/204", req -> Response.text("not sent").withStatus(204))
                .get("/205", req -> Response.text("not sent").withStatus(205))
                .get("/304", req -> Response.stream(new ByteArrayInputStream(
                        "not sent".getBytes(StandardCharsets.US_ASCII)), "text/plain").withStatus(304))
                .get("/", req -> Response.text("next"))
                .build());
        try (RawClient c = new RawClient(server.port())) {
            c.send(HttpTestSupport.get("/204") + HttpTestSupport.get("/205") + HttpTestSupport.get("/304")
                    + HttpTestSupport.get("/"));
            HttpTestSupport.RawResponse noContent = HttpTestSupport.read(c);
            assertEquals(204, noContent.status());
            assertNull(noContent.header("Content-Length"));
            HttpTestSupport.RawResponse reset = HttpTestSupport.read(c);
            assertEquals(205, reset.status());
            assertEquals("0", reset.header("Content-Length"));
            HttpTestSupport.RawResponse notModified = HttpTestSupport.read(c);
            assertEquals(304, notModified.status());
            assertFalse(notModified.chunked(), "no chunked framing on a 304: " + notModified.headers());
            HttpTestSupport.RawResponse next = HttpTestSupport.read(c);
            assertEquals(200, next.status());
            assertEquals("next", next.bodyText());
        }
    }
}
