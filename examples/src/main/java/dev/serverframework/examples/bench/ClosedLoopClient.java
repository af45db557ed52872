package dev.serverframework.examples.bench;

import dev.serverframework.examples.bench.HttpLoad.Mode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One closed-loop client of a {@link LoadCell}: at most one connection and one request at a time; the next
 * request goes out when the previous response has fully arrived and been validated (or, at a fixed rate, at
 * its intended time). Failures are counted by kind and the connection is replaced. Everything runs on its
 * event loop; it is the handler of each of its connections in turn.
 */
@ChannelHandler.Sharable
final class ClosedLoopClient extends ChannelInboundHandlerAdapter {
    /** Where the client is in its loop. */
    private enum Phase { IDLE, WAITING, CONNECTING, REQUEST, AWAIT_CLOSE, FAILED, DONE }

    private final LoadCell cell;
    private final EventLoop loop;
    /** The source address its connections bind to; null for the kernel's choice. */
    private final InetSocketAddress local;
    private final int index;
    private final ResponseParser parser;
    private Channel channel;
    private Phase phase = Phase.IDLE;
    private long phaseStart;
    /** What this request's latency is measured from: its send, or its intended send at a fixed rate. */
    private long requestBase;
    private long nextIntended;
    private ScheduledFuture<?> timeoutCheck;
    private boolean done;

    /**
     * @param cell  the cell it belongs to: settings, counters, the measurement window
     * @param loop  the event loop it runs on
     * @param local the source address to bind to, or null
     * @param index its number in the cell, to spread the fixed-rate schedules
     */
    ClosedLoopClient(LoadCell cell, EventLoop loop, InetSocketAddress local, int index) {
        this.cell = cell;
        this.loop = loop;
        this.local = local;
        this.index = index;
        this.parser = cell.newParser();
    }

    /** Starts the loop: its first connect, on its event loop. Any thread. */
    void start() {
        loop.execute(this::begin);
    }

    /** Ends the loop now, on its event loop, closing its connection. Any thread. */
    void stop() {
        loop.execute(this::finish);
    }

    private void begin() {
        long period = Math.max(10, cell.timeout().toMillis() / 4);
        timeoutCheck = loop.scheduleAtFixedRate(this::checkTimeout, period, period, TimeUnit.MILLISECONDS);
        // Connections start spread over one interval, so the total rate is even from the start.
        nextIntended = System.nanoTime() + cell.interval() * index / Math.max(1, cell.connections());
        connect();
    }

    private void connect() {
        if (!cell.isRunning()) {
            finish();
            return;
        }
        if (cell.mode() == Mode.CLOSE && waitForSchedule(this::connectWhenDue)) {
            return;
        }
        phase = Phase.CONNECTING;
        phaseStart = System.nanoTime();
        long started = phaseStart;
        ChannelFuture f = local == null
                ? bootstrap().connect(cell.target().address())
                : bootstrap().connect(cell.target().address(), local);
        channel = f.channel();
        f.addListener((ChannelFuture cf) -> {
            if (cf.channel() != channel || phase != Phase.CONNECTING) {
                return; // timed out or finished meanwhile
            }
            long now = System.nanoTime();
            if (cf.isSuccess() && cf.channel().localAddress().equals(cf.channel().remoteAddress())) {
                // TCP self-connect: with nothing listening on a loopback port, the kernel may pick that
                // very port as the source and "connect" the socket to itself. Nothing is listening.
                cell.error(ErrorKind.CONNECT_REFUSED, "self-connect: nothing listens on "
                        + cell.target().address(), started, now);
                phase = Phase.FAILED;
                cf.channel().close();
                loop.execute(this::connect);
            } else if (cf.isSuccess()) {
                cell.connected(started, now);
                send();
            } else {
                Throwable cause = cf.cause();
                cell.error(ErrorKind.ofConnectFailure(cause), String.valueOf(cause.getMessage()), started, now);
                phase = Phase.FAILED;
                cf.channel().close();
                // Through the queue, not recursively: a refused connect may fail at once.
                loop.execute(this::connect);
            }
        });
    }

    private Bootstrap bootstrap() {
        return cell.bootstrap(loop).handler(this);
    }

    /**
     * At a fixed rate: true (and {@code next} scheduled) when this connection's next intended send is
     * still ahead; else takes that intended time as the request's base. Always false in a closed loop.
     */
    private boolean waitForSchedule(Runnable next) {
        if (cell.interval() == 0) {
            return false;
        }
        long now = System.nanoTime();
        if (nextIntended > now) {
            phase = Phase.WAITING;
            loop.schedule(next, nextIntended - now, TimeUnit.NANOSECONDS);
            return true;
        }
        requestBase = nextIntended;
        nextIntended += cell.interval();
        return false;
    }

    private void connectWhenDue() {
        if (phase == Phase.WAITING && !done) {
            connect();
        }
    }

    private void sendWhenDue() {
        if (phase != Phase.WAITING || done) {
            return; // the connection failed or the cell ended meanwhile
        }
        if (!cell.isRunning()) {
            finish();
            return;
        }
        send();
    }

    private void send() {
        if (cell.mode() == Mode.KEEPALIVE && waitForSchedule(this::sendWhenDue)) {
            return;
        }
        phase = Phase.REQUEST;
        phaseStart = System.nanoTime();
        if (cell.interval() == 0) {
            requestBase = phaseStart;
        }
        parser.expectResponse();
        ByteBuf req = cell.request();
        // A void promise: no listener per request; a failed write reaches exceptionCaught instead.
        channel.writeAndFlush(req, channel.voidPromise());
    }

    /** Response bytes: fed to the parser; bytes after a complete response are a length error. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            if (ctx.channel() != channel) {
                return;
            }
            if (phase == Phase.AWAIT_CLOSE || phase == Phase.WAITING) {
                // The response was complete; more bytes mean its Content-Length was too short.
                fail(ErrorKind.WRONG_LENGTH, buf.readableBytes() + " bytes after a complete response");
                return;
            }
            if (phase != Phase.REQUEST) {
                return;
            }
            ResponseParser.Outcome outcome = parser.feed(buf);
            if (outcome != null) {
                handle(outcome);
            }
        } finally {
            buf.release();
        }
    }

    private void handle(ResponseParser.Outcome outcome) {
        long now = System.nanoTime();
        if (outcome.kind() == ErrorKind.BAD_STATUS || outcome.kind() == ErrorKind.BAD_BODY) {
            // Wrong but well framed: counted, and the connection stays usable as the server intends.
            cell.error(outcome.kind(), outcome.detail(), requestBase, now);
        } else if (!outcome.ok()) {
            fail(outcome.kind(), outcome.detail());
            return;
        } else {
            cell.answered(requestBase, now);
        }
        if (cell.mode() == Mode.KEEPALIVE && !outcome.serverCloses()) {
            if (cell.isRunning()) {
                send();
            } else {
                finish();
            }
        } else if (channel.isActive()) {
            // Connection: close: the server closes; its close (channelInactive) starts the next connect.
            phase = Phase.AWAIT_CLOSE;
            phaseStart = now;
        } else {
            phase = Phase.IDLE;
            loop.execute(this::connect);
        }
    }

    /** Counts the error for the request in progress and replaces the connection. */
    private void fail(ErrorKind kind, String detail) {
        cell.error(kind, detail, phaseStart, System.nanoTime());
        boolean wasActive = channel.isActive();
        phase = Phase.FAILED;
        channel.close();
        if (!wasActive) {
            // No channelInactive will follow (a connect that timed out, or already closed): go on here.
            loop.execute(this::connect);
        }
    }

    /** The connection closed: a response delimited by the close completes; then the next connect. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ctx.channel() != channel || phase == Phase.DONE) {
            return;
        }
        if (phase == Phase.REQUEST) {
            ResponseParser.Outcome outcome = parser.endOfInput();
            if (outcome != null && outcome.ok()) {
                handle(outcome); // a body delimited by the end of the connection
                return;
            } else if (outcome != null) {
                cell.error(outcome.kind(), outcome.detail(), phaseStart, System.nanoTime());
            }
        }
        phase = Phase.IDLE;
        connect();
    }

    /** An I/O failure: counted against the request in progress, and the connection replaced. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ctx.channel() != channel) {
            ctx.close();
            return;
        }
        if (phase == Phase.REQUEST) {
            fail(ErrorKind.ofIoFailure(cause), String.valueOf(cause.getMessage()));
        } else {
            ctx.close();
        }
    }

    private void checkTimeout() {
        if (phase != Phase.CONNECTING && phase != Phase.REQUEST && phase != Phase.AWAIT_CLOSE) {
            return;
        }
        long now = System.nanoTime();
        if (now - phaseStart < cell.timeout().toNanos()) {
            return;
        }
        String what = switch (phase) {
            case CONNECTING -> "no connection";
            case REQUEST -> parser.started() ? "response incomplete" : "no response";
            default -> "server did not close after Connection: close";
        };
        fail(phase == Phase.AWAIT_CLOSE ? ErrorKind.OTHER : ErrorKind.TIMEOUT,
                what + " within " + cell.timeout().toMillis() + " ms");
    }

    private void finish() {
        if (done) {
            return;
        }
        done = true;
        phase = Phase.DONE;
        if (timeoutCheck != null) {
            timeoutCheck.cancel(false);
        }
        if (channel != null) {
            channel.close();
        }
        cell.clientFinished();
    }
}
