package dev.serverframework.core.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Handles a listening socket's accept failures, above all "Too many open files": it pauses accepting for
 * a second through the {@link AcceptGate} (pending clients wait in the backlog instead of the loop
 * spinning on the error) and logs at most one warning a minute, without a stack trace, saying how many
 * failures it did not log. Without it,
 * each failure would reach the end of Netty's pipeline and be logged there with a stack trace. Shared by
 * a server's listeners; runs on their event loops.
 */
@ChannelHandler.Sharable
final class AcceptFailureHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AcceptFailureHandler.class);
    private static final long PAUSE_MILLIS = 1000;
    private static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final AcceptGate gate;
    private final AtomicLong lastLogged = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
    private final AtomicLong unlogged = new AtomicLong();

    AcceptFailureHandler(AcceptGate gate) {
        this.gate = gate;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        gate.acceptFailed(PAUSE_MILLIS);
        long now = System.nanoTime();
        long last = lastLogged.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLogged.compareAndSet(last, now)) {
            long more = unlogged.getAndSet(0);
            log.warn("Accepting a connection on {} failed: {}; accepting pauses for {} ms{}",
                    ctx.channel().localAddress(), cause.getMessage(), PAUSE_MILLIS,
                    more == 0 ? "" : " (" + more + " more failures in the last minute)");
        } else {
            unlogged.incrementAndGet();
        }
    }
}
