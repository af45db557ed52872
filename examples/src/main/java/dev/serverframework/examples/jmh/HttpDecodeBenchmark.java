package dev.serverframework.examples.jmh;

import dev.serverframework.http.HttpProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Decodes HTTP requests from bytes, as one socket read each, with the framework's request decoder (installed
 * by {@link HttpProtocol#initPipeline}) and with raw Netty's: {@link HttpRequestDecoder} (the decoder of
 * {@code HttpServerCodec}, without the codec's per-request queue for HEAD responses, which would grow here as
 * no response is written), alone ({@code netty-codec}: a head object and content objects per request) and
 * followed by {@link HttpObjectAggregator} ({@code netty-aggregated}: one {@link FullHttpRequest} per request,
 * what the framework passes on).
 *
 * <p>One op is one read: the request's bytes copied into a pooled direct buffer (as the transport reads
 * them), decoded, and every message passed on released. Run with {@code -prof gc} for the bytes allocated per
 * op ({@code gc.alloc.rate.norm}):
 * <pre>{@code
 * java -jar server-framework-examples.jar jmh HttpDecodeBenchmark -prof gc
 * }</pre>
 * Requests: {@code small} is what load generators send (request line and Host), {@code browser} a browser's
 * GET with its usual fields, {@code post} a small JSON POST, {@code pipelined} 16 small requests in one read
 * (the figure is per read, so per 16 requests).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Thread)
public class HttpDecodeBenchmark {
    private static final String SMALL = "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";
    private static final String BROWSER = "GET /static/app.js?v=3 HTTP/1.1\r\n"
            + "Host: localhost:8080\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br\r\n"
            + "Referer: http://localhost:8080/index.html\r\n"
            + "Cookie: session=4f2a9c7e1b; theme=dark\r\n"
            + "Connection: keep-alive\r\n"
            + "Sec-Fetch-Dest: script\r\n"
            + "Sec-Fetch-Mode: no-cors\r\n"
            + "If-None-Match: \"5e1f-18c\"\r\n"
            + "\r\n";
    private static final String POST = "POST /api/items HTTP/1.1\r\n"
            + "Host: localhost:8080\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: 32\r\n"
            + "\r\n"
            + "{\"name\":\"widget\",\"quantity\":125}";

    /** Whose decoder. */
    @Param({"framework", "netty-codec", "netty-aggregated"})
    public String decoder;

    /** Which request. */
    @Param({"small", "browser", "post", "pipelined"})
    public String request;

    private EmbeddedChannel channel;
    private ChannelPipeline pipeline;
    private byte[] bytes;
    private Sink sink;

    /** Counts and releases what the decoder passes on. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        long messages;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            messages++;
            ReferenceCountUtil.release(msg);
        }
    }

    /** Builds the channel with the chosen decoder. */
    @Setup
    public void setUp() {
        bytes = (switch (request) {
            case "small" -> SMALL;
            case "browser" -> BROWSER;
            case "post" -> POST;
            case "pipelined" -> SMALL.repeat(16);
            default -> throw new IllegalArgumentException(request);
        }).getBytes(StandardCharsets.ISO_8859_1);
        channel = new EmbeddedChannel();
        pipeline = channel.pipeline();
        switch (decoder) {
            case "framework" -> HttpProtocol.builder().build().initPipeline(pipeline);
            case "netty-codec" -> pipeline.addLast(new HttpRequestDecoder());
            case "netty-aggregated" -> pipeline.addLast(new HttpRequestDecoder(), new HttpObjectAggregator(1 << 20));
            default -> throw new IllegalArgumentException(decoder);
        }
        sink = new Sink();
        pipeline.addLast(sink);
    }

    /** Closes the channel. */
    @TearDown
    public void tearDown() {
        if (sink.messages == 0) {
            throw new IllegalStateException("nothing was decoded");
        }
        channel.finishAndReleaseAll();
    }

    /** One read: the bytes arrive, are decoded, and what is passed on is released. */
    @Benchmark
    public long decode() {
        ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        in.writeBytes(bytes);
        pipeline.fireChannelRead(in);
        pipeline.fireChannelReadComplete();
        return sink.messages;
    }
}
