package dev.serverframework.examples.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One connection of a {@code bench broadcast} load process, and the whole of its protocol, hand-rolled so
 * that an idle one costs little besides Netty's channel: a keep-alive {@code GET} first (the connection is
 * an idle HTTP one while the server's memory is read), then the WebSocket handshake on the same connection,
 * then frames. Server frames are unmasked (RFC 6455 5.1): a binary message is counted, and its sequence
 * number and send time ({@link BroadcastEndpoint}'s layout) give a gap check and the delivery latency; a
 * ping is answered with a masked pong carrying its payload; a close frame is answered and counted. A
 * violation of the protocol (a masked or oversized frame) is counted and ends the connection.
 *
 * <p>Threads: everything on the connection's event loop, but for {@link #received()}, which the worker's
 * thread reads; the worker starts the handshake and the reset through {@link #upgrade} and {@link #reset},
 * which hop onto the event loop.
 */
final class BroadcastClient extends ByteToMessageDecoder {
    /** A frame longer than this is no broadcast of {@link BroadcastEndpoint}'s: a protocol error. */
    private static final int MAX_FRAME = 1 << 20;
    private static final int OP_TEXT = 0x1;
    private static final int OP_BINARY = 0x2;
    private static final int OP_CLOSE = 0x8;
    private static final int OP_PING = 0x9;
    private static final int OP_PONG = 0xA;

    private enum State { CONNECTING, HTTP, HTTP_IDLE, UPGRADING, OPEN, FAILED, CLOSED }

    private final BroadcastWorker worker;
    private volatile State state = State.CONNECTING;
    private ChannelHandlerContext ctx;
    /** While an answer is awaited: its parser; null otherwise, so an idle connection does not keep one. */
    private ResponseParser parser;
    /** The phase waiting for this connection's answer, or null. */
    private BroadcastWorker.Batch batch;
    /** Messages since the last reset; the worker's thread reads it. */
    private volatile int received;
    private long lastSequence = -1;
    /** This side is closing: the end of the connection is not the server's doing. */
    private boolean closing;

    BroadcastClient(BroadcastWorker worker, BroadcastWorker.Batch batch) {
        this.worker = worker;
        this.batch = batch;
    }

    /** Messages received since the last {@link #reset}. Any thread. */
    int received() {
        return received;
    }

    /** Whether the connection is an open WebSocket. Any thread (a racy read, for counts). */
    boolean isOpen() {
        return state == State.OPEN;
    }

    /** Whether the connection is an idle HTTP one, ready for {@link #upgrade}. */
    boolean isIdleHttp() {
        return state == State.HTTP_IDLE;
    }

    /** The connect failed: this connection's part of the batch is done. */
    void connectFailed(Throwable cause) {
        state = State.FAILED;
        done(false, BroadcastWorker.describe(cause));
    }

    /** Sends the WebSocket handshake; {@code b} hears of its answer. Any thread. */
    void upgrade(BroadcastWorker.Batch b) {
        ctx.channel().eventLoop().execute(() -> {
            batch = b;
            if (state != State.HTTP_IDLE) {
                done(false, "connection not open");
                return;
            }
            state = State.UPGRADING;
            expect(101);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(worker.handshake(key())));
        });
    }

    /** Forgets the messages counted so far; {@code then} runs once that is done. Any thread. */
    void reset(Runnable then) {
        if (ctx == null) {
            then.run();
            return;
        }
        ctx.channel().eventLoop().execute(() -> {
            received = 0;
            lastSequence = -1;
            then.run();
        });
    }

    /** Closes the connection from this side. Any thread. */
    void close() {
        if (ctx != null) {
            ctx.channel().eventLoop().execute(() -> {
                closing = true;
                ctx.close();
            });
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        state = State.HTTP;
        expect(200);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(worker.request()));
        super.channelActive(ctx);
    }

    private void expect(int status) {
        parser = new ResponseParser(status, null, false);
        parser.expectResponse();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HTTP, UPGRADING -> answer(in);
            case OPEN -> frames(in);
            default -> {
                if (state == State.HTTP_IDLE) {
                    worker.error("bytes from the server on an idle HTTP connection");
                }
                in.skipBytes(in.readableBytes());
            }
        }
    }

    /** The answer to the GET or to the handshake; after a 101 the frames that follow stay in {@code in}. */
    private void answer(ByteBuf in) {
        ResponseParser.Outcome o = parser.feed(in);
        if (o == null) {
            return;
        }
        parser = null;
        if (o.ok() && !o.serverCloses()) {
            state = state == State.UPGRADING ? State.OPEN : State.HTTP_IDLE;
            done(true, null);
        } else {
            String what = state == State.UPGRADING ? "handshake" : "GET";
            state = State.FAILED;
            done(false, what + ": " + (o.ok() ? "the server closes the connection"
                    : o.kind().label() + " " + o.detail()));
            closing = true;
            ctx.close();
        }
    }

    /** Every whole frame in {@code in}; a partial one waits for the next read. */
    private void frames(ByteBuf in) {
        long now = 0;
        while (in.readableBytes() >= 2) {
            int r = in.readerIndex();
            int b0 = in.getUnsignedByte(r);
            int b1 = in.getUnsignedByte(r + 1);
            long length = b1 & 0x7F;
            int header = 2;
            if (length == 126) {
                if (in.readableBytes() < 4) {
                    return;
                }
                length = in.getUnsignedShort(r + 2);
                header = 4;
            } else if (length == 127) {
                if (in.readableBytes() < 10) {
                    return;
                }
                length = in.getLong(r + 2);
                header = 10;
            }
            if ((b1 & 0x80) != 0 || length < 0 || length > MAX_FRAME) {
                violation((b1 & 0x80) != 0 ? "a masked frame from the server" : "a frame of " + length + " bytes");
                in.skipBytes(in.readableBytes());
                return;
            }
            if (in.readableBytes() < header + length) {
                return;
            }
            int p = r + header;
            int n = (int) length;
            switch (b0 & 0x0F) {
                case OP_BINARY, OP_TEXT -> {
                    if (now == 0) {
                        // One reading of the clock for all the frames of one read: they arrived together.
                        now = WallClock.micros();
                        worker.receivedAt(now);
                    }
                    message(in, p, n, now);
                }
                case OP_PING -> {
                    worker.pinged();
                    send(OP_PONG, in, p, n);
                }
                case OP_CLOSE -> {
                    // The server closes: counted here, as this side's close that follows is only the answer.
                    worker.closeFrame();
                    worker.closedByServer();
                    send(OP_CLOSE, in, p, Math.min(n, 2));
                    closing = true;
                    state = State.CLOSED;
                    ctx.close();
                    in.skipBytes(in.readableBytes());
                    return;
                }
                case OP_PONG -> {
                    // Unsolicited pongs are allowed (RFC 6455 5.5.3); nothing to do.
                }
                default -> {
                    violation("opcode " + (b0 & 0x0F));
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
            in.readerIndex(p + n);
        }
    }

    private void message(ByteBuf in, int p, int n, long now) {
        received++;
        if (n < BroadcastEndpoint.MIN_SIZE) {
            worker.untimed();
            return;
        }
        long sequence = in.getLong(p + BroadcastEndpoint.SEQUENCE_OFFSET);
        long sentAt = in.getLong(p + BroadcastEndpoint.SENT_AT_OFFSET);
        worker.delivered(now - sentAt, sequence != lastSequence + 1);
        lastSequence = sequence;
    }

    /** A masked frame of this opcode with {@code n} bytes of {@code in} from {@code p} as its payload. */
    private void send(int opcode, ByteBuf in, int p, int n) {
        ByteBuf f = ctx.alloc().buffer(6 + n);
        f.writeByte(0x80 | opcode);
        f.writeByte(0x80 | n);
        int mask = ThreadLocalRandom.current().nextInt();
        f.writeInt(mask);
        for (int i = 0; i < n; i++) {
            f.writeByte(in.getByte(p + i) ^ (mask >>> (24 - 8 * (i & 3))));
        }
        ctx.writeAndFlush(f);
    }

    private void violation(String what) {
        worker.error("protocol violation: " + what);
        closing = true;
        state = State.CLOSED;
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        super.channelInactive(ctx);
        if (state == State.HTTP || state == State.UPGRADING) {
            done(false, "closed by the server before its answer");
        } else if (!closing && (state == State.HTTP_IDLE || state == State.OPEN)) {
            worker.closedByServer();
        }
        if (state != State.FAILED) {
            state = State.CLOSED;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.HTTP || state == State.UPGRADING) {
            state = State.FAILED;
            done(false, BroadcastWorker.describe(cause));
        } else if (!closing) {
            worker.error(BroadcastWorker.describe(cause));
        }
        closing = true;
        ctx.close();
    }

    /** Tells the waiting phase, once, how this connection's part of it went. */
    private void done(boolean ok, String error) {
        BroadcastWorker.Batch b = batch;
        batch = null;
        if (b != null) {
            b.done(ok, error);
        }
    }

    /** A Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 4.1). */
    private static String key() {
        byte[] k = new byte[16];
        ThreadLocalRandom.current().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    @Override
    public String toString() {
        return "BroadcastClient[" + state + ", " + received + " received]";
    }
}
