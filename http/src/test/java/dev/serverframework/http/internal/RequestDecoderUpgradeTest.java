package dev.serverframework.http.internal;

import dev.serverframework.http.internal.RequestDecoder.BadRequestException;
import dev.serverframework.http.internal.RequestDecoder.Limits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request decoder around a request that asks to upgrade the connection: what arrives behind it is held
 * undecoded until the protocol declines (then decoded as HTTP) or switches (then handed, untouched, to the
 * handler after the decoder), and an end of input meanwhile waits behind those bytes.
 */
class RequestDecoderUpgradeTest {
    private static final Limits LIMITS = new Limits(1000, 2000, 100, TimeUnit.SECONDS.toNanos(1));
    private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    private static final String PLAIN = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";

    private final Recorder recorder = new Recorder();
    private final EmbeddedChannel ch = new EmbeddedChannel(new RequestDecoder(LIMITS, ctx -> { }), recorder);

    @AfterEach
    void release() {
        ch.finishAndReleaseAll();
        recorder.reads.forEach(ReferenceCountUtil::release);
    }

    /** What reaches the handler after the decoder, with the end-of-input events in their place. */
    private static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<Object> reads = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            reads.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            reads.add(evt);
        }
    }

    private void write(String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
    }

    private UpgradeRequest upgradeRequest() {
        return assertInstanceOf(UpgradeRequest.class, recorder.reads.get(0));
    }

    @Test
    void bytesBehindAnUpgradeRequestWaitForTheAnswer() {
        write(UPGRADE + PLAIN);
        assertEquals(1, recorder.reads.size(), "only the upgrade request: " + recorder.reads);
        upgradeRequest();
    }

    @Test
    void aDeclinedUpgradeLetsThePipelinedRequestsThrough() {
        write(UPGRADE + PLAIN);
        write("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
        upgradeRequest().declined();
        ch.runPendingTasks();
        assertEquals(3, recorder.reads.size(), recorder.reads.toString());
        assertEquals("/next", ((FullHttpRequest) recorder.reads.get(1)).uri());
        assertEquals("/later", ((FullHttpRequest) recorder.reads.get(2)).uri());
    }

    @Test
    void aRequestWithoutUpgradeIsNoUpgradeRequest() {
        write(PLAIN + PLAIN);
        assertEquals(2, recorder.reads.size());
        recorder.reads.forEach(r -> assertTrue(!(r instanceof UpgradeRequest), r.toString()));
    }

    @Test
    void aSwitchHandsTheHeldBytesOnUntouched() {
        byte[] frame = {(byte) 0x81, (byte) 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
        ByteBuf in = Unpooled.buffer().writeBytes(UPGRADE.getBytes(StandardCharsets.ISO_8859_1)).writeBytes(frame);
        ch.writeInbound(in);
        ch.pipeline().remove(RequestDecoder.class);
        assertEquals(2, recorder.reads.size());
        ByteBuf held = assertInstanceOf(ByteBuf.class, recorder.reads.get(1));
        byte[] got = new byte[held.readableBytes()];
        held.getBytes(held.readerIndex(), got);
        assertEquals(new String(frame, StandardCharsets.ISO_8859_1), new String(got, StandardCharsets.ISO_8859_1));
    }

    @Test
    void theEndOfInputWaitsBehindTheHeldBytes() {
        write(UPGRADE + PLAIN);
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertEquals(1, recorder.reads.size(), "held: " + recorder.reads);
        upgradeRequest().declined();
        ch.runPendingTasks();
        assertEquals(3, recorder.reads.size(), recorder.reads.toString());
        assertEquals("/next", ((FullHttpRequest) recorder.reads.get(1)).uri());
        assertEquals(ChannelInputShutdownEvent.INSTANCE, recorder.reads.get(2));
    }

    @Test
    void theEndOfInputFollowsTheHeldBytesIntoTheNextProtocol() {
        write(UPGRADE + "xyz");
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        ch.pipeline().remove(RequestDecoder.class);
        assertEquals(3, recorder.reads.size(), recorder.reads.toString());
        assertEquals("xyz", ((ByteBuf) recorder.reads.get(1)).toString(StandardCharsets.ISO_8859_1));
        assertEquals(ChannelInputShutdownEvent.INSTANCE, recorder.reads.get(2));
    }

    @Test
    void tooMuchBehindAnUpgradeRequestIsRefused() {
        write(UPGRADE);
        write("x".repeat(RequestDecoder.MAX_HELD_BYTES + 1));
        assertEquals(2, recorder.reads.size());
        FullHttpRequest refused = (FullHttpRequest) recorder.reads.get(1);
        assertInstanceOf(BadRequestException.class, refused.decoderResult().cause());
    }
}
