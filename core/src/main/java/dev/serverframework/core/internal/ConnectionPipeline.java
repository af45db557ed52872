package dev.serverframework.core.internal;

import dev.serverframework.core.Protocol;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * The layout of a connection's pipeline and the surgery done on it: TLS, the framework's socket-end
 * handlers, the protocol's codecs, the dispatcher; replacing the codecs on a protocol switch; stripping
 * the framework on a hijack. Stateless; every method runs on the connection's I/O loop.
 */
final class ConnectionPipeline {
    static final String TLS = "sf-tls";
    static final String CHUNKED = "sf-chunked";
    static final String ACTIVITY = "sf-activity";
    static final String OUTBOUND = "sf-outbound";
    static final String DISPATCH = "sf-dispatch";
    /** Holds, for the moment of a protocol switch, what the old codecs had buffered. */
    static final String SWITCH = "sf-switch";

    /** The new codecs of a protocol switch and what the old ones had buffered, to hand to the new ones. */
    record Switched(List<String> codecNames, List<Object> leftovers) {
    }

    /** The codec names last installed, by any server: racy on purpose, a stale read only costs a copy. */
    private static volatile List<String> lastCodecNames = List.of();

    private ConnectionPipeline() {
    }

    /** Builds a new connection's pipeline; returns the names of the protocol's codec handlers. */
    static List<String> build(ChannelPipeline p, SslContext tls, ActivityHandler activity,
                              OutboundQueueHandler outbound, Protocol<?> protocol, ProtocolDispatcher dispatcher) {
        if (tls != null) {
            p.addLast(TLS, tls.newHandler(p.channel().alloc()));
        }
        p.addLast(ACTIVITY, activity);
        p.addLast(OUTBOUND, outbound);
        List<String> codecs = installCodecs(p, protocol);
        p.addLast(DISPATCH, dispatcher);
        return codecs;
    }

    private static List<String> installCodecs(ChannelPipeline p, Protocol<?> protocol) {
        List<String> before = p.names();
        protocol.initPipeline(p);
        List<String> added = new ArrayList<>(p.names());
        added.removeAll(before);
        return shared(added);
    }

    /**
     * The list of names, as the one instance shared with the connections whose codecs had the same names
     * (nearly all of them: a protocol's initPipeline adds the same handlers each time), since idle
     * connections are many.
     */
    private static List<String> shared(List<String> names) {
        List<String> last = lastCodecNames;
        if (names.equals(last)) {
            return last;
        }
        List<String> copy = List.copyOf(names);
        lastCodecNames = copy;
        return copy;
    }

    /**
     * Puts Netty's chunked writer next to the socket end, the first time a connection writes a
     * {@link ChunkedInput} (a streamed body, a file under TLS): most connections never do, and the chunked
     * writer queues every write it sees. Once there it stays, so later writes keep their order behind the
     * stream. On the I/O loop.
     */
    static void ensureChunkedWriter(ChannelPipeline p) {
        if (p.context(CHUNKED) == null) {
            p.addBefore(ACTIVITY, CHUNKED, new ChunkedWriteHandler());
        }
    }

    /**
     * Replaces the old protocol's codecs and dispatcher by the next protocol's. The old codecs leave before
     * the new ones come, so both may use the same handler names (two instances of one protocol class);
     * what they buffered is caught on its way out, last codec first: the first (byte-level) codec's
     * leftover bytes must not pass through the old codec's later stages (e.g. a string decoder).
     *
     * @throws RuntimeException from the next protocol's {@code initPipeline}; the leftovers are released
     */
    static Switched replaceCodecs(ChannelPipeline p, List<String> oldCodecs, Protocol<?> next,
                                  ProtocolDispatcher nextDispatcher) {
        p.remove(DISPATCH);
        LeftoverCatcher leftovers = new LeftoverCatcher();
        p.addLast(SWITCH, leftovers);
        for (int i = oldCodecs.size() - 1; i >= 0; i--) {
            if (p.get(oldCodecs.get(i)) != null) {
                p.remove(oldCodecs.get(i));
            }
        }
        p.remove(SWITCH);
        List<String> codecs;
        try {
            codecs = installCodecs(p, next);
        } catch (RuntimeException e) {
            leftovers.caught.forEach(ReferenceCountUtil::release);
            throw e;
        }
        p.addLast(DISPATCH, nextDispatcher);
        return new Switched(codecs, leftovers.caught);
    }

    /**
     * Hands what the old codecs had buffered to the first of the new ones, and the events they had held
     * behind it (a codec holding bytes may hold the peer's end of input too), in their order.
     */
    static void replay(ChannelPipeline p, List<Object> leftovers) {
        // OUTBOUND is the framework's last handler before the codecs: firing from it reaches the first one.
        ChannelHandlerContext beforeCodecs = p.context(OUTBOUND);
        boolean read = false;
        for (Object m : leftovers) {
            if (m instanceof HeldEvent held) {
                if (read) {
                    beforeCodecs.fireChannelReadComplete();
                    read = false;
                }
                beforeCodecs.fireUserEventTriggered(held.event());
            } else {
                beforeCodecs.fireChannelRead(m);
                read = true;
            }
        }
        if (read) {
            beforeCodecs.fireChannelReadComplete();
        }
    }

    /** Removes the codecs and the framework's handlers, leaving TLS (for a hijack). */
    static void strip(ChannelPipeline p, List<String> codecs) {
        for (String name : codecs) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
        for (String name : new String[] {DISPATCH, OUTBOUND, LingeringClose.NAME, ACTIVITY, CHUNKED}) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
    }

    /** Keeps the messages the old codecs hand on as they leave the pipeline during a switch. */
    private static final class LeftoverCatcher extends ChannelInboundHandlerAdapter {
        final List<Object> caught = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            caught.add(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // the replay fires its own
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            caught.add(new HeldEvent(evt));
        }
    }

    /** An event an old codec passed on as it left, kept in its place among the leftover messages. */
    private record HeldEvent(Object event) {
    }
}
