package dev.serverframework.http;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import dev.serverframework.http.HttpTestSupport.RawResponse;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.serverframework.http.HttpTestSupport.get;
import static dev.serverframework.http.HttpTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A handler keeps per-connection state of its own in the connection's attributes, beside the protocol's:
 * what one request stored, the next request on the same keep-alive connection sees, and another
 * connection does not.
 */
class ConnectionStateTest {
    /** The application's own key: the requests this connection has seen, in order. */
    private static final AttributeKey<List<String>> SEEN = AttributeKey.valueOf(ConnectionStateTest.class, "seen");

    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    /** Each handler appends its request's path to the connection's list and answers with the whole list. */
    private static String remember(Request request) {
        Attribute<List<String>> seen = request.connection().attr(SEEN);
        if (seen.get() == null) {
            seen.set(new ArrayList<>());
        }
        seen.get().add(request.path());
        return String.join(",", seen.get());
    }

    private void start(Execution mode) {
        server = HttpTestSupport.start(HttpProtocol.builder()
                .execution(mode)
                .get("/sync/{n}", r -> Response.text(remember(r)))
                .getAsync("/async/{n}", r -> CompletableFuture.supplyAsync(() -> remember(r)).thenApply(Response::text))
                .build());
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void twoRequestsOnOneKeepAliveConnectionSeeTheStateAHandlerStored(Execution mode) {
        start(mode);
        try (RawClient c = new RawClient(server.port())) {
            c.send(get("/sync/1"));
            RawResponse first = read(c);
            assertEquals("/sync/1", first.bodyText());
            assertNull(first.header("Connection"), "the connection stays open");
            c.send(get("/async/2"));
            assertEquals("/sync/1,/async/2", read(c).bodyText(), "the second request sees what the first stored");
            c.send(get("/sync/3"));
            assertEquals("/sync/1,/async/2,/sync/3", read(c).bodyText());
        }
        try (RawClient other = new RawClient(server.port())) {
            other.send(get("/sync/4"));
            assertEquals("/sync/4", read(other).bodyText(), "another connection has state of its own");
        }
    }
}
