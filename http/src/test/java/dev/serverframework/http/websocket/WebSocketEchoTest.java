package dev.serverframework.http.websocket;

import dev.serverframework.core.Protocol.Execution;
import dev.serverframework.core.Server;
import dev.serverframework.http.HttpProtocol;
import dev.serverframework.http.HttpTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketClientCompressionHandler;

import java.net.URI;
import java.net.http.HttpClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A WebSocket echo endpoint driven by ready-made clients as applications use them: the JDK's own WebSocket
 * client, and Netty's {@link WebSocketClientProtocolHandler} (which does the handshake, answers pings and
 * handles close frames itself), in both execution modes.
 */
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

    @ParameterizedTest
    @EnumSource(Execution.class)
    void nettysClientProtocolHandlerEchoesAndClosesCleanly(Execution mode) throws Exception {
        LinkedBlockingQueue<String> closes = new LinkedBlockingQueue<>();
        server = HttpTestSupport.start(HttpProtocol.builder().execution(mode)
                .websocket("/echo", WebSocketOptions.builder().compression(true).build(), new WebSocketHandler() {
                    @Override
                    public void onText(WebSocket socket, String text) {
                        if (text.equals("bye")) {
                            socket.close(4000, "as you wish");
                        } else {
                            socket.send("echo: " + text);
                        }
                    }

                    @Override
                    public void onClose(WebSocket socket, int code, String reason) {
                        closes.add(code + " " + reason);
                    }
                })
                .build());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
            URI uri = URI.create("ws://127.0.0.1:" + server.port() + "/echo");
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(8192),
                                    WebSocketClientCompressionHandler.INSTANCE,
                                    new WebSocketClientProtocolHandler(WebSocketClientProtocolConfig.newBuilder()
                                            .webSocketUri(uri).allowExtensions(true).build()),
                                    new SimpleChannelInboundHandler<Object>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                            if (msg instanceof TextWebSocketFrame t) {
                                                events.add(t.text());
                                            }
                                        }

                                        @Override
                                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                            events.add(evt);
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            events.add(cause);
                                        }
                                    });
                        }
                    })
                    .connect(uri.getHost(), uri.getPort()).sync().channel();
            Object first;
            do {
                first = events.poll(5, TimeUnit.SECONDS);
            } while (first != null && first != WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE);
            assertEquals(WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE, first);
            ch.writeAndFlush(new TextWebSocketFrame("hello".repeat(100))).sync();
            assertEquals("echo: " + "hello".repeat(100), events.poll(5, TimeUnit.SECONDS));
            ch.writeAndFlush(new TextWebSocketFrame("bye")).sync();
            // The handler closes the channel when the server's close frame arrives.
            assertTrue(ch.closeFuture().await(5, TimeUnit.SECONDS), "the client did not close");
            assertEquals("4000 as you wish", closes.poll(5, TimeUnit.SECONDS));
            Object extra = events.poll();
            assertTrue(extra == null || !(extra instanceof Throwable), "client error: " + extra);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
