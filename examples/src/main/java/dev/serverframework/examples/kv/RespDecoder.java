package dev.serverframework.examples.kv;

import dev.serverframework.examples.kv.RespMessage.Command;
import dev.serverframework.examples.kv.RespMessage.ProtocolError;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decodes RESP2 requests into {@link RespMessage}s: each complete request becomes one {@link Command} (the
 * command name and its arguments, binary-safe). Both request forms Redis accepts are understood: arrays of
 * bulk strings ({@code *2\r\n$3\r\nGET\r\n$1\r\nk\r\n}, what client libraries send) and inline commands
 * ({@code GET k\r\n}, what a person types in telnet), with Redis's quoting rules for the latter
 * ({@link InlineCommand}). The requests of one read are followed by {@link RespMessage#END_OF_READ}.
 *
 * <p><b>Any split.</b> A request may arrive in any number of pieces. The decoder keeps the position it
 * has parsed up to, so each new piece is scanned once, and it consumes nothing until a request is
 * complete: the unconsumed bytes are always whole requests' worth of input, which is what
 * {@link io.netty.channel.ChannelPipeline#remove} hands on when {@code Connection.switchProtocol}
 * replaces this decoder.
 *
 * <p><b>Limits and errors.</b> Every length read from the peer is checked before it is trusted: a bulk
 * string's length, an array's element count, an inline line's length, a length line's length and a whole
 * request's size. Input over a limit is reported as Netty's {@link TooLongFrameException}, which the framework
 * hands to {@code Protocol.onInputTooLong}; input that breaks the grammar becomes a {@link ProtocolError}
 * message. Either way the text is Redis's (e.g. {@code Protocol error: invalid bulk length}), the decoder then
 * discards everything else the peer sends, and the protocol answers and closes. Nothing is allocated from a
 * length before the bytes it announces have arrived.
 *
 * <p><b>Partial input.</b> The bytes of a request not yet complete are counted against the caps of a
 * {@link QueryBufferShare} after each read, and given back when the request completes, when the connection
 * closes or its input ends, and when this decoder is removed (a protocol switch hands the bytes to the next
 * decoder, which counts them again). A read that would break a cap is over a limit like any other. (What is
 * counted is readable bytes: Netty's buffer may be somewhat larger, and the read that breaks a cap has been
 * read before it is dropped.)
 *
 * <p>One instance per connection; runs on the connection's I/O event loop.
 */
public final class RespDecoder extends ByteToMessageDecoder {
    /** A length line ({@code *N} or {@code $N}) longer than this is an error: 20 digits and a sign fit. */
    static final int MAX_LENGTH_LINE = 32;

    private final int maxBulkLength;
    private final int maxArguments;
    private final int maxInlineLength;
    private final int maxRequestLength;
    /** The partial input this decoder holds, counted against the caps. */
    private final QueryBufferShare share;

    /** Elements the current array announced; -1 between requests. */
    private int expected = -1;
    /** Elements of the current array parsed so far. */
    private int parsed;
    /** Where each parsed element starts and how long it is, relative to the request's first byte. */
    private int[] starts = new int[8];
    private int[] lengths = new int[8];
    /** The next byte to parse, relative to the request's first byte (the buffer's reader index). */
    private int position;
    /** Length of the bulk string whose header has been read, or -1 when a header comes next. */
    private int bulkLength = -1;
    private boolean failed;
    /** Whether this read has produced a command, so {@link RespMessage#END_OF_READ} must follow it. */
    private boolean decodedInRead;

    /**
     * A decoder whose partial input counts against {@code maxQueryBuffer} and, with every decoder sharing
     * {@code bufferedTotal}, against {@code maxTotalQueryBuffer}.
     *
     * @param maxBulkLength       longest bulk string (argument) accepted, in bytes
     * @param maxArguments        most elements in one request
     * @param maxInlineLength     longest inline command line, in bytes, without its line end
     * @param maxRequestLength    most bytes in one request, all arguments and framing included
     * @param maxQueryBuffer      most bytes of partial input this connection may hold
     * @param maxTotalQueryBuffer most bytes of partial input all decoders sharing {@code bufferedTotal} may hold
     * @param bufferedTotal       the bytes of partial input those decoders hold, shared by all of them
     */
    public RespDecoder(int maxBulkLength, int maxArguments, int maxInlineLength, int maxRequestLength,
                       int maxQueryBuffer, long maxTotalQueryBuffer, AtomicLong bufferedTotal) {
        this.maxBulkLength = maxBulkLength;
        this.maxArguments = maxArguments;
        this.maxInlineLength = maxInlineLength;
        this.maxRequestLength = maxRequestLength;
        this.share = new QueryBufferShare(maxQueryBuffer, maxTotalQueryBuffer, bufferedTotal);
    }

    /** Passes {@link RespMessage#END_OF_READ} on after a read that decoded something. I/O loop. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (decodedInRead) {
            decodedInRead = false;
            ctx.fireChannelRead(RespMessage.END_OF_READ);
        }
        super.channelReadComplete(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int before = out.size();
        int readerIndex = in.readerIndex();
        decodeOne(ctx, in, out);
        if (out.size() > before) {
            decodedInRead = true;
        }
        if (out.size() > before || in.readerIndex() != readerIndex) {
            // A request was completed, skipped or refused: its bytes are no longer partial input. If the
            // rest is a partial request, the decode call that follows (no progress) counts it.
            share.release();
        } else {
            // No progress: everything readable belongs to the one request still on its way.
            String overCap = share.holdPartial(in.readableBytes());
            if (overCap != null) {
                tooLong(ctx, in, overCap);
            }
        }
    }

    /** The input ended or the connection closed: Netty has dropped what was buffered, so give it back. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        try {
            super.channelInactive(ctx);
        } finally {
            share.release();
        }
    }

    /**
     * The input shut down (a half-close, where the channel allows it): Netty has decoded what it could and
     * released the rest, so give back what was counted for it.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        try {
            super.userEventTriggered(ctx, evt);
        } finally {
            if (!internalBuffer().isReadable()) {
                share.release();
            }
        }
    }

    /**
     * Removed (connection closed, or {@code switchProtocol}: the buffered bytes have just been handed on,
     * and the next decoder counts them as it receives them).
     */
    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        share.release();
    }

    private void decodeOne(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (expected < 0) {
            if (in.getByte(in.readerIndex()) != '*') {
                decodeInline(ctx, in, out);
                return;
            }
            if (!decodeArrayHeader(ctx, in, out)) {
                return;
            }
        }
        decodeElements(ctx, in, out);
    }

    /** Reads {@code *N\r\n}; true when an array with elements follows. */
    private boolean decodeArrayHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        long n = readLength(ctx, in, start, "too big mbulk count string", "invalid multibulk length", out);
        if (n == NEED_MORE || n == FAILED) {
            return false;
        }
        int lineEnd = in.indexOf(start, in.writerIndex(), (byte) '\n');
        if (n <= 0) {
            // Redis ignores an empty or null array.
            in.readerIndex(lineEnd + 1);
            return false;
        }
        if (n > maxArguments) {
            tooLong(ctx, in, "Protocol error: invalid multibulk length");
            return false;
        }
        expected = (int) n;
        parsed = 0;
        position = lineEnd + 1 - start;
        bulkLength = -1;
        int capacity = Math.min(expected, 1024);
        if (starts.length < capacity) {
            starts = new int[capacity];
            lengths = new int[capacity];
        }
        return true;
    }

    private void decodeElements(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int base = in.readerIndex();
        int end = in.writerIndex();
        while (parsed < expected) {
            if (bulkLength < 0) {
                int at = base + position;
                if (at >= end) {
                    return;
                }
                byte type = in.getByte(at);
                if (type != '$') {
                    fail(in, out, "Protocol error: expected '$', got '" + (char) (type & 0xff) + "'");
                    return;
                }
                long n = readLength(ctx, in, at, "too big bulk count string", "invalid bulk length", out);
                if (n == NEED_MORE || n == FAILED) {
                    return;
                }
                if (n < 0) {
                    fail(in, out, "Protocol error: invalid bulk length");
                    return;
                }
                if (n > maxBulkLength) {
                    tooLong(ctx, in, "Protocol error: invalid bulk length");
                    return;
                }
                int lineEnd = in.indexOf(at, end, (byte) '\n');
                position = lineEnd + 1 - base;
                if ((long) position + n + 2 > maxRequestLength) {
                    tooLong(ctx, in, "Protocol error: too big request");
                    return;
                }
                bulkLength = (int) n;
            }
            if ((long) end - base - position < (long) bulkLength + 2) {
                return; // the rest of the bulk string is still on its way
            }
            int crlf = base + position + bulkLength;
            if (in.getByte(crlf) != '\r' || in.getByte(crlf + 1) != '\n') {
                fail(in, out, "Protocol error: expected CRLF after bulk string");
                return;
            }
            if (parsed == starts.length) {
                int grown = (int) Math.min((long) starts.length * 2, expected);
                starts = Arrays.copyOf(starts, grown);
                lengths = Arrays.copyOf(lengths, grown);
            }
            starts[parsed] = position;
            lengths[parsed] = bulkLength;
            parsed++;
            position += bulkLength + 2;
            bulkLength = -1;
        }
        byte[][] command = new byte[expected][];
        for (int i = 0; i < expected; i++) {
            byte[] arg = new byte[lengths[i]];
            in.getBytes(base + starts[i], arg);
            command[i] = arg;
        }
        in.skipBytes(position);
        expected = -1;
        position = 0;
        if (starts.length > 1024) {
            // one huge request must not pin its index arrays for the connection's life
            starts = new int[8];
            lengths = new int[8];
        }
        out.add(new Command(command));
    }

    private static final long NEED_MORE = Long.MIN_VALUE;
    private static final long FAILED = Long.MIN_VALUE + 1;

    /**
     * Reads the decimal number of the length line starting at {@code at} (its type byte), ending in CRLF.
     * Returns it, {@link #NEED_MORE} when the line is incomplete, or {@link #FAILED} after reporting
     * {@code tooLong} (a line over {@link #MAX_LENGTH_LINE}) or {@code invalid}.
     */
    private long readLength(ChannelHandlerContext ctx, ByteBuf in, int at, String tooLong, String invalid,
                            List<Object> out) {
        int end = in.writerIndex();
        int searchEnd = (int) Math.min(end, (long) at + 1 + MAX_LENGTH_LINE + 2);
        int lf = in.indexOf(at + 1, searchEnd, (byte) '\n');
        if (lf < 0) {
            if (searchEnd - at - 1 >= MAX_LENGTH_LINE + 2) {
                tooLong(ctx, in, "Protocol error: " + tooLong);
                return FAILED;
            }
            return NEED_MORE;
        }
        int digitsEnd = lf - 1;
        if (digitsEnd <= at || in.getByte(digitsEnd) != '\r') {
            fail(in, out, "Protocol error: " + invalid);
            return FAILED;
        }
        long n = parseLength(in, at + 1, digitsEnd);
        if (n == FAILED) {
            fail(in, out, "Protocol error: " + invalid);
            return FAILED;
        }
        return n;
    }

    /**
     * Parses a length as Redis's {@code string2ll} does (no '+', no leading zeros, fits a long), in place.
     * Returns {@link #FAILED} when it is not one.
     */
    private static long parseLength(ByteBuf in, int from, int to) {
        int len = to - from;
        if (len <= 0 || len > 20) {
            return FAILED;
        }
        if (len == 1 && in.getByte(from) == '0') {
            return 0;
        }
        boolean negative = in.getByte(from) == '-';
        int i = negative ? from + 1 : from;
        if (i == to || in.getByte(i) < '1' || in.getByte(i) > '9') {
            return FAILED;
        }
        long v = 0;
        for (; i < to; i++) {
            int d = in.getByte(i) - '0';
            if (d < 0 || d > 9 || v > (Long.MAX_VALUE - d) / 10) {
                return FAILED; // (the most negative long is no length anyone needs)
            }
            v = v * 10 + d;
        }
        return negative ? -v : v;
    }

    /** Reads one inline command line, split into arguments as Redis's {@code sdssplitargs} does. */
    private void decodeInline(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        int searchEnd = (int) Math.min(end, (long) start + maxInlineLength + 2);
        int lf = in.indexOf(start, searchEnd, (byte) '\n');
        if (lf < 0) {
            if (searchEnd - start >= maxInlineLength + 2) {
                tooLong(ctx, in, "Protocol error: too big inline request");
            }
            return;
        }
        int lineEnd = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        if (lineEnd - start > maxInlineLength) {
            tooLong(ctx, in, "Protocol error: too big inline request");
            return;
        }
        byte[] line = new byte[lineEnd - start];
        in.getBytes(start, line);
        List<byte[]> args = InlineCommand.splitArgs(line);
        if (args == null) {
            fail(in, out, "Protocol error: unbalanced quotes in request");
            return;
        }
        if (args.size() > maxArguments) {
            tooLong(ctx, in, "Protocol error: invalid multibulk length");
            return;
        }
        in.readerIndex(lf + 1);
        if (!args.isEmpty()) {
            out.add(new Command(args.toArray(new byte[0][])));
        }
        // an empty line is skipped, as Redis does
    }

    /** Input that breaks the grammar: a {@link ProtocolError} after the requests before it; the rest is discarded. */
    private void fail(ByteBuf in, List<Object> out, String message) {
        discardAll(in);
        out.add(new ProtocolError(message));
    }

    /**
     * Input over a limit: Netty's {@link TooLongFrameException} after the requests before it (each
     * {@code decode} emits at most one, which the base class passes on before the next call); the rest is
     * discarded. Fired, not thrown: a throw at the end of input would keep the end-of-input event from the
     * protocol.
     */
    private void tooLong(ChannelHandlerContext ctx, ByteBuf in, String message) {
        discardAll(in);
        ctx.fireExceptionCaught(new TooLongFrameException(message));
    }

    private void discardAll(ByteBuf in) {
        failed = true;
        expected = -1;
        in.skipBytes(in.readableBytes());
        share.release();
    }
}
