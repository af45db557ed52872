package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.core.ServerBuilder;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import dev.serverframework.http.Response;
import org.junit.jupiter.api.AfterEach;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the WebSocket tests share: a server with an echoing, {@link Recorder recording} endpoint on
 * {@code /ws} (and a plain HTTP route, {@code /plain}), the clients a test opened, and the checks made
 * after each test once the server has stopped: every socket's {@code onClose} ran exactly once, every
 * callback ran on its connection's executor.
 */
abstract class WebSocketTestBase {
    protected Server server;
    protected final Recorder recorder = new Recorder();
    private final List<AutoCloseable> clients = new ArrayList<>();

    /** Starts a server whose {@code /ws} has these options, in this execution mode. */
    protected Server start(Execution mode, WebSocketOptions options) {
        return start(mode, options, b -> { });
    }

    protected Server start(Execution mode, WebSocketOptions options, Consumer<ServerBuilder> settings) {
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .get("/plain", req -> Response.text("plain"))
                .websocket("/ws", options, recorder)
                .build(), settings);
        return server;
    }

    /** Keeps a client to close after the test. */
    protected <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }

    /** A Netty client on {@code /ws}, and its server-side socket. */
    protected NettyWsClient netty() {
        return track(NettyWsClient.connect(server, "/ws"));
    }

    /** A raw client on {@code /ws}. */
    protected RawWs raw() {
        return track(RawWs.open(server, "/ws"));
    }

    /** A client that must come through another client's misbehaviour untouched: it still gets its echo. */
    protected void assertStillServed(NettyWsClient bystander) {
        org.junit.jupiter.api.Assertions.assertEquals("still here?", bystander.echo("still here?"));
        bystander.assertNoErrors();
    }

    @AfterEach
    void stopAndCheck() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        recorder.awaitAllClosed();
        HttpTestSupport.stop(server);
        recorder.assertHealthyAfterStop();
    }
}
