package dev.serverframework.echo;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Turns the peer's half-close ({@code printf ... | nc host port} ends with one) into the message
 * {@link #END_OF_INPUT}, so the protocol can close the connection <em>after</em> its pending output.
 * Without half-closure Netty closes the channel as soon as the input ends, and what was still queued for
 * the peer would be lost. Runs on the I/O loop.
 */
final class EndOfInputHandler extends ChannelInboundHandlerAdapter {
    /** Reaches {@code onData} once the peer has shut down its output. */
    static final Object END_OF_INPUT = new Object() {
        @Override
        public String toString() {
            return "END_OF_INPUT";
        }
    };

    /** Allows half-closure on the pipeline's channel and adds this handler last. On the I/O loop. */
    static void install(ChannelPipeline pipeline) {
        pipeline.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        pipeline.addLast("end-of-input", new EndOfInputHandler());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            ctx.fireChannelRead(END_OF_INPUT);
            // The framework flushes writes made on the I/O loop at the end of a read batch: end this one.
            ctx.fireChannelReadComplete();
        }
        ctx.fireUserEventTriggered(evt);
    }
}
