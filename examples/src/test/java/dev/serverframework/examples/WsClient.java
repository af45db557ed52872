package dev.serverframework.examples;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The JDK's WebSocket client as a chat member: every text message it gets is queued as a line; reads are
 * bounded in time. One made to take only so many messages asks for no more after them, so it stops reading
 * its socket, as a stalled browser tab would.
 */
final class WsClient implements WebSocket.Listener, AutoCloseable {
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder partial = new StringBuilder();
    /** The close code and reason the server sent, or 1006 when the connection just ended. */
    final CompletableFuture<String> closed = new CompletableFuture<>();
    /** Messages still to ask for; on the client's listener thread. */
    private long allowance;
    private WebSocket socket;

    private WsClient(long messages) {
        this.allowance = messages;
    }

    static WsClient connect(URI uri) throws Exception {
        return connect(uri, Long.MAX_VALUE);
    }

    /** A client that takes the first {@code messages} messages only, then stops reading. */
    static WsClient connect(URI uri, long messages) throws Exception {
        return connect(HttpClient.newHttpClient(), uri, messages);
    }

    /** A client over {@code http}, e.g. one that trusts a test certificate for {@code wss://}. */
    static WsClient connect(HttpClient http, URI uri, long messages) throws Exception {
        WsClient client = new WsClient(messages);
        client.socket = http.newWebSocketBuilder().buildAsync(uri, client).get(10, TimeUnit.SECONDS);
        return client;
    }

    private void askForMore(WebSocket webSocket) {
        if (allowance > 0) {
            allowance--;
            webSocket.request(1);
        }
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        askForMore(webSocket);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            lines.add(partial.toString());
            partial.setLength(0);
        }
        if (last) {
            askForMore(webSocket);
        } else {
            webSocket.request(1);
        }
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode + " " + reason);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete("1006 " + error);
    }

    /** The next line, waiting up to 10 s for it. */
    String line() throws InterruptedException {
        String line = lines.poll(10, TimeUnit.SECONDS);
        if (line == null) {
            throw new AssertionError("no WebSocket message within 10 s");
        }
        return line;
    }

    WsClient send(String text) throws Exception {
        socket.sendText(text, true).get(10, TimeUnit.SECONDS);
        return this;
    }

    WsClient sendBinary(byte[] data) throws Exception {
        socket.sendBinary(ByteBuffer.wrap(data), true).get(10, TimeUnit.SECONDS);
        return this;
    }

    /** The server's close code and reason, waiting up to 10 s for them. */
    String closeStatus() throws Exception {
        return closed.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (socket != null) {
            socket.abort();
        }
    }
}
