package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A WebSocket echo endpoint driven by the JDK's own WebSocket client, in both execution modes. */
class WebSocketEchoTest {
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        HttpTestSupport.stop(server);
    }

    @ParameterizedTest
    @EnumSource(Execution.class)
    void textMessagesAreEchoedAndTheCloseIsAnswered(Execution mode) throws Exception {
        LinkedBlockingQueue<String> closes = new LinkedBlockingQueue<>();
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .websocket("/echo", new WebSocketHandler() {
                    @Override
                    public void onText(WebSocket socket, String text) {
                        socket.send("echo: " + text);
                    }

                    @Override
                    public void onClose(WebSocket socket, int code, String reason) {
                        closes.add(code + " " + reason);
                    }
                })
                .build());
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        java.net.http.WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/echo"), new java.net.http.WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(java.net.http.WebSocket webSocket, CharSequence data, boolean last) {
                        received.add(data.toString());
                        webSocket.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(java.net.http.WebSocket webSocket, int statusCode, String reason) {
                        closed.complete(statusCode);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo: hello", received.poll(5, TimeUnit.SECONDS));
        ws.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
        assertEquals(1000, closed.get(5, TimeUnit.SECONDS));
        assertEquals("1000 bye", closes.poll(5, TimeUnit.SECONDS));
    }
}
