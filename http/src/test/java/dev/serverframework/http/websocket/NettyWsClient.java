package dev.serverframework.http.websocket;

import dev.serverframework.core.Server;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketClientCompressionHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A WebSocket client on Netty's own client codec ({@link WebSocketClientHandshaker}, the RFC 6455 frame
 * decoder with {@code expectMaskedFrames=false} and no mask mismatch allowed, optionally
 * {@link WebSocketClientCompressionHandler}), as the judge uses it. Netty's decoder checks the
 * server's frames strictly (a masked server frame, a reserved bit or opcode, a bad close body are errors,
 * collected in {@link #errors()}); this client also refuses fragmented server messages. Pings are answered
 * with pongs unless {@link #autoPong} is turned off. Bytes can be sent as frames (masked by Netty's encoder)
 * or as hand-built bytes that bypass the encoder, for frames Netty will not build.
 */
final class NettyWsClient implements AutoCloseable {
    /** One small event loop group for every client of the test run; daemon threads, never shut down. */
    private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(2,
            new DefaultThreadFactory("ws-test-client", true), NioIoHandler.newFactory());
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A frame as the client received it: after inflation, with the wire's RSV bits as Netty's decoder saw them. */
    record Received(int opcode, boolean fin, int wireRsv, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The close frame's code, or -1 for a close frame without one. */
        int closeCode() {
            assertEquals(0x8, opcode, "not a close frame");
            return payload.length < 2 ? -1 : (payload[0] & 0xFF) << 8 | payload[1] & 0xFF;
        }

        String closeReason() {
            return payload.length <= 2 ? "" : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "frame opcode " + opcode + " fin " + fin + " rsv " + wireRsv + " length " + payload.length
                    + (opcode == 0x1 || opcode == 0x8 ? " \"" + text() + "\"" : "");
        }
    }

    /** How to connect. */
    static final class Options {
        String subprotocols;
        boolean compression;
        int maxAllocation;
        final HttpHeaders headers = new DefaultHttpHeaders();

        Options subprotocols(String csv) {
            this.subprotocols = csv;
            return this;
        }

        Options compression(boolean on) {
            this.compression = on;
            return this;
        }

        Options header(String name, String value) {
            headers.add(name, value);
            return this;
        }
    }

    private final Channel channel;
    private final WebSocketClientHandshaker handshaker;
    private final FullHttpResponse handshakeResponse;
    private final LinkedBlockingQueue<Received> frames;
    private final List<Throwable> errors;
    private final CompletableFuture<Void> closed;
    volatile boolean autoPong = true;

    private NettyWsClient(Channel channel, WebSocketClientHandshaker handshaker, FullHttpResponse handshakeResponse,
                          LinkedBlockingQueue<Received> frames, List<Throwable> errors, CompletableFuture<Void> closed) {
        this.channel = channel;
        this.handshaker = handshaker;
        this.handshakeResponse = handshakeResponse;
        this.frames = frames;
        this.errors = errors;
        this.closed = closed;
    }

    static NettyWsClient connect(Server server, String path) {
        return connect(server, path, new Options());
    }

    /** Connects and finishes the opening handshake; fails the test if the server refuses it. */
    static NettyWsClient connect(Server server, String path, Options options) {
        URI uri = URI.create("ws://127.0.0.1:" + server.port() + path);
        WebSocketClientHandshaker handshaker = WebSocketClientHandshakerFactory.newHandshaker(uri,
                WebSocketVersion.V13, options.subprotocols, options.compression, options.headers, 64 << 20);
        LinkedBlockingQueue<Received> frames = new LinkedBlockingQueue<>();
        List<Throwable> errors = new ArrayList<>();
        CompletableFuture<FullHttpResponse> handshakeDone = new CompletableFuture<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        NettyWsClient[] self = new NettyWsClient[1];
        Bootstrap b = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 16));
                        if (options.compression) {
                            ch.pipeline().addLast(new WebSocketClientCompressionHandler(options.maxAllocation));
                        }
                        ch.pipeline().addLast("test-client", new SimpleChannelInboundHandler<Object>() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                handshaker.handshake(ctx.channel());
                            }

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof FullHttpResponse res) {
                                    try {
                                        handshaker.finishHandshake(ctx.channel(), res);
                                        ctx.pipeline().addAfter("ws-decoder", "wire-rsv", new WireRsv());
                                        handshakeDone.complete(res.retainedDuplicate());
                                    } catch (RuntimeException e) {
                                        handshakeDone.completeExceptionally(new AssertionError("handshake refused: "
                                                + res.status() + " " + res.content().toString(StandardCharsets.UTF_8), e));
                                    }
                                } else if (msg instanceof WebSocketFrame frame) {
                                    Integer rsv = ctx.channel().attr(WireRsv.LAST).getAndSet(null);
                                    Received r = new Received(opcode(frame), frame.isFinalFragment(),
                                            rsv == null ? frame.rsv() : rsv, ByteBufUtil.getBytes(frame.content()));
                                    frames.add(r);
                                    if (frame instanceof PingWebSocketFrame && self[0] != null && self[0].autoPong) {
                                        ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
                                    }
                                }
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                synchronized (errors) {
                                    errors.add(cause);
                                }
                                handshakeDone.completeExceptionally(cause);
                                ctx.close();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                handshakeDone.completeExceptionally(new AssertionError("closed during the handshake"));
                                closed.complete(null);
                            }
                        });
                    }
                });
        ChannelFuture cf = b.connect(uri.getHost(), uri.getPort()).syncUninterruptibly();
        try {
            FullHttpResponse res = handshakeDone.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            self[0] = new NettyWsClient(cf.channel(), handshaker, res, frames, errors, closed);
            return self[0];
        } catch (Exception e) {
            cf.channel().close();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw cause instanceof AssertionError ae ? ae : new AssertionError("handshake failed", cause);
        }
    }

    /** Records the RSV bits of each frame as it came off the wire, before an inflater clears RSV1. */
    private static final class WireRsv extends ChannelInboundHandlerAdapter {
        static final io.netty.util.AttributeKey<Integer> LAST =
                io.netty.util.AttributeKey.valueOf(WireRsv.class, "rsv");

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof WebSocketFrame f) {
                ctx.channel().attr(LAST).set(f.rsv());
            }
            ctx.fireChannelRead(msg);
        }
    }

    private static int opcode(WebSocketFrame f) {
        if (f instanceof ContinuationWebSocketFrame) {
            return 0x0;
        }
        if (f instanceof TextWebSocketFrame) {
            return 0x1;
        }
        if (f instanceof BinaryWebSocketFrame) {
            return 0x2;
        }
        if (f instanceof CloseWebSocketFrame) {
            return 0x8;
        }
        if (f instanceof PingWebSocketFrame) {
            return 0x9;
        }
        if (f instanceof PongWebSocketFrame) {
            return 0xA;
        }
        throw new AssertionError("unknown frame " + f);
    }

    /** The server's 101 (its headers; a retained duplicate, released by {@link #close()}). */
    HttpHeaders handshakeHeaders() {
        return handshakeResponse.headers();
    }

    String subprotocol() {
        return handshaker.actualSubprotocol();
    }

    /**
     * From now on frames go out unmasked: Netty's own encoder with {@code maskPayload=false}, as a server's,
     * in place of the client's. Waits until the pipeline is changed.
     */
    NettyWsClient unmasked() {
        channel.eventLoop().submit(() -> channel.pipeline().replace("ws-encoder", "ws-encoder",
                new io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder(false))).syncUninterruptibly();
        return this;
    }

    /** Sends a frame through Netty's encoder (masked), and waits until it is written. */
    NettyWsClient send(WebSocketFrame frame) {
        await(channel.writeAndFlush(frame));
        return this;
    }

    NettyWsClient sendText(String text) {
        return send(new TextWebSocketFrame(text));
    }

    /**
     * Sends frames in one flush without checking the writes: a frame that breaks a rule may get the
     * connection closed before the ones after it are written.
     */
    void sendAllNoWait(List<WebSocketFrame> frames) {
        for (WebSocketFrame f : frames) {
            channel.write(f);
        }
        channel.flush();
    }

    /** Sends hand-built bytes as they are, past the frame encoder (a frame Netty would not build). */
    NettyWsClient sendRaw(byte[] bytes) {
        await(channel.writeAndFlush(Unpooled.wrappedBuffer(bytes)));
        return this;
    }

    /** Sends bytes without waiting for the write (the server may close the connection in between). */
    void sendRawNoWait(byte[] bytes) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
    }

    private static void await(ChannelFuture f) {
        assertTrue(f.awaitUninterruptibly(WAIT.toMillis()), "write did not complete");
        if (!f.isSuccess()) {
            throw new AssertionError("write failed", f.cause());
        }
    }

    /** The next frame, pings included; fails after the deadline. */
    Received next() {
        try {
            Received r = frames.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(r, "no frame from the server within " + WAIT.toSeconds() + " s; errors: " + errors());
            return r;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** The next frame other than a ping. */
    Received nextData() {
        Received r;
        do {
            r = next();
        } while (r.opcode() == 0x9);
        assertTrue(r.fin(), "the server fragmented a message: " + r);
        return r;
    }

    String nextText() {
        Received r = nextData();
        assertEquals(0x1, r.opcode(), "expected a text message, got " + r);
        return r.text();
    }

    byte[] nextBinary() {
        Received r = nextData();
        assertEquals(0x2, r.opcode(), "expected a binary message, got " + r);
        return r.payload();
    }

    /** Sends a text message and returns the next text message (the echo handler's answer). */
    String echo(String text) {
        sendText(text);
        return nextText();
    }

    /** The next frame must be a close frame with this code; returns it. */
    Received expectClose(int code) {
        Received r = nextData();
        assertEquals(0x8, r.opcode(), "expected a close frame, got " + r);
        assertEquals(code, r.closeCode(), "close code; reason: " + r.closeReason());
        return r;
    }

    /** Waits until the connection has ended. */
    void awaitClosed() {
        try {
            closed.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            fail("the server did not close the connection within " + WAIT.toSeconds() + " s");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The close handshake is over and TCP closed cleanly: a close frame, then the end, and no error. */
    Received expectCloseAndEnd(int code) {
        Received r = expectClose(code);
        awaitClosed();
        assertNoErrors();
        Received extra = frames.poll();
        if (extra != null) {
            fail("frame after the close frame: " + extra);
        }
        return r;
    }

    boolean isOpen() {
        return channel.isActive();
    }

    List<Throwable> errors() {
        synchronized (errors) {
            return new ArrayList<>(errors);
        }
    }

    /** No decoder error on the server's frames, and no reset. */
    void assertNoErrors() {
        List<Throwable> e = errors();
        if (!e.isEmpty()) {
            throw new AssertionError("client saw errors: " + e, e.get(0));
        }
    }

    /** Unanswered frames the test did not read. */
    List<Received> pending() {
        List<Received> out = new ArrayList<>();
        frames.drainTo(out);
        return out;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(WAIT.toMillis());
        handshakeResponse.release();
    }
}
