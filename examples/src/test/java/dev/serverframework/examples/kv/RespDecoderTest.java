package dev.serverframework.examples.kv;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.serverframework.examples.kv.KvTestSupport.bytes;
import static dev.serverframework.examples.kv.KvTestSupport.cmd;
import static dev.serverframework.examples.kv.KvTestSupport.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The decoder alone, fed exactly the pieces a test chooses (a socket may merge writes; an EmbeddedChannel
 * does not): every split gives the same commands, every limit and grammar error gives Redis's message (a
 * grammar error as a {@link RespMessage.ProtocolError}, a limit as a {@link TooLongFrameException} after the
 * commands before it), and nothing of an incomplete request is consumed.
 */
class RespDecoderTest {
    private static final byte[] INPUT = concat(
            bytes(cmd("SET", "key", "bin\r\n\0\377") + cmd("MGET", "a", "", "c")),
            bytes("*0\r\n"), // an empty array is skipped
            bytes("get  \"quoted \\x41\" 'x'\r\n"),
            bytes(cmd("PING")));

    private static final List<String> EXPECTED = List.of(
            "[SET, key, bin\r\n\0\377]", "[MGET, a, , c]", "[get, quoted A, x]", "[PING]");

    private static EmbeddedChannel channel(int maxBulk, int maxArgs, int maxInline) {
        return new EmbeddedChannel(new RespDecoder(maxBulk, maxArgs, maxInline, 1 << 20, Integer.MAX_VALUE,
                Long.MAX_VALUE, new AtomicLong()));
    }

    private static List<String> feed(EmbeddedChannel ch, byte[]... pieces) {
        List<String> decoded = new ArrayList<>();
        for (byte[] p : pieces) {
            TooLongFrameException tooLong = null;
            try {
                ch.writeInbound(Unpooled.wrappedBuffer(p));
            } catch (TooLongFrameException e) {
                tooLong = e; // the EmbeddedChannel rethrows what reached the end of its pipeline
            }
            RespMessage m;
            while ((m = ch.readInbound()) != null) {
                if (m instanceof RespMessage.EndOfRead) {
                    continue; // ends each read that decoded something; the protocol flushes on it
                }
                decoded.add(describe(m));
            }
            if (tooLong != null) {
                decoded.add("error: " + tooLong.getMessage());
            }
        }
        return decoded;
    }

    private static String describe(RespMessage m) {
        if (m instanceof RespMessage.ProtocolError e) {
            return "error: " + e.message();
        }
        List<String> words = new ArrayList<>();
        if (m instanceof RespMessage.Command c) {
            for (byte[] w : c.args()) {
                words.add(new String(w, StandardCharsets.ISO_8859_1));
            }
        }
        return words.toString();
    }

    @Test
    void wholeInputDecodesToEachCommand() {
        EmbeddedChannel ch = channel(1024, 16, 1024);
        assertEquals(EXPECTED, feed(ch, INPUT));
        ch.finishAndReleaseAll();
    }

    @Test
    void everyTwoPartSplitDecodesTheSame() {
        for (int cut = 1; cut < INPUT.length; cut++) {
            EmbeddedChannel ch = channel(1024, 16, 1024);
            assertEquals(EXPECTED, feed(ch, Arrays.copyOfRange(INPUT, 0, cut),
                    Arrays.copyOfRange(INPUT, cut, INPUT.length)), "split at " + cut);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void byteByByteDecodesTheSame() {
        EmbeddedChannel ch = channel(1024, 16, 1024);
        byte[][] pieces = new byte[INPUT.length][];
        for (int i = 0; i < INPUT.length; i++) {
            pieces[i] = new byte[] {INPUT[i]};
        }
        assertEquals(EXPECTED, feed(ch, pieces));
        ch.finishAndReleaseAll();
    }

    @Test
    void anIncompleteRequestIsNotConsumed() {
        // What a protocol switch hands to the next decoder must be the whole unfinished request.
        EmbeddedChannel ch = channel(1024, 16, 1024);
        byte[] partial = bytes("*2\r\n$3\r\nGET\r\n$5\r\nab");
        assertEquals(List.of(), feed(ch, partial));
        ch.pipeline().remove(RespDecoder.class);
        ByteBuf leftover = ch.readInbound();
        assertEquals(new String(partial, StandardCharsets.ISO_8859_1), leftover.toString(StandardCharsets.ISO_8859_1));
        leftover.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void everyLimitAndGrammarErrorIsReportedAsRedisDoes() {
        String[][] cases = {
                {"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
                {"*1\r\n$-5\r\nxx\r\n", "Protocol error: invalid bulk length"},
                {"*1\r\n$17\r\n", "Protocol error: invalid bulk length"}, // over maxBulk 16
                {"*x\r\n", "Protocol error: invalid multibulk length"},
                {"*5\r\n", "Protocol error: invalid multibulk length"}, // over maxArgs 4
                {"*1\r\n:5\r\n", "Protocol error: expected '$', got ':'"},
                {"*2\r\n$1\r\na\r\n?\r\n", "Protocol error: expected '$', got '?'"},
                {"*1\r\n$1\r\nabc\r\n", "Protocol error: expected CRLF after bulk string"},
                {"*1" + "1".repeat(40), "Protocol error: too big mbulk count string"},
                {"*1\r\n$" + "1".repeat(40), "Protocol error: too big bulk count string"},
                {"x".repeat(33), "Protocol error: too big inline request"}, // over maxInline 32
                {"a b c d e\r\n", "Protocol error: invalid multibulk length"},
                {"SET k \"open\r\n", "Protocol error: unbalanced quotes in request"},
                {"SET k \"a\"b\r\n", "Protocol error: unbalanced quotes in request"},
        };
        for (String[] c : cases) {
            EmbeddedChannel ch = channel(16, 4, 32);
            byte[] after = bytes(cmd("PING")); // nothing after the error is decoded
            List<String> decoded = feed(ch, bytes(cmd("ECHO", "ok")), bytes(c[0]), after);
            assertEquals(List.of("[ECHO, ok]", "error: " + c[1]), decoded, c[0]);
            assertNull(ch.readInbound());
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aRequestAtEveryLimitIsAccepted() {
        EmbeddedChannel ch = channel(16, 4, 32);
        String inline = "ECHO " + "y".repeat(27); // 32 bytes
        List<String> decoded = feed(ch, bytes(cmd("A", "b", "c", "0123456789abcdef")), bytes(inline + "\r\n"));
        assertEquals(List.of("[A, b, c, 0123456789abcdef]", "[ECHO, " + "y".repeat(27) + "]"), decoded);
        ch.finishAndReleaseAll();
    }

    // ---- partial input counted against the query buffer caps ----

    private static EmbeddedChannel capped(int maxQueryBuffer, long maxTotal, AtomicLong total) {
        return new EmbeddedChannel(new RespDecoder(1024, 16, 1024, 1 << 20, maxQueryBuffer, maxTotal, total));
    }

    @Test
    void partialInputIsCountedWhileItArrivesAndGivenBackWhenTheRequestCompletes() {
        AtomicLong total = new AtomicLong();
        EmbeddedChannel ch = capped(1024, 4096, total);
        byte[] request = bytes(cmd("SET", "k", "v".repeat(100)));
        assertEquals(List.of(), feed(ch, Arrays.copyOf(request, 30)));
        assertEquals(30, total.get());
        assertEquals(List.of(), feed(ch, Arrays.copyOfRange(request, 30, 90)));
        assertEquals(90, total.get());
        // the rest completes it, and half of a PING follows in the same read
        byte[] ping = bytes(cmd("PING"));
        assertEquals(List.of("[SET, k, " + "v".repeat(100) + "]"),
                feed(ch, concat(Arrays.copyOfRange(request, 90, request.length), Arrays.copyOf(ping, 5))));
        assertEquals(5, total.get());
        assertEquals(List.of("[PING]"), feed(ch, Arrays.copyOfRange(ping, 5, ping.length)));
        assertEquals(0, total.get());
        ch.finishAndReleaseAll();
    }

    @Test
    void pipelinedCompleteRequestsDoNotCountAgainstTheCap() {
        AtomicLong total = new AtomicLong();
        EmbeddedChannel ch = capped(64, 64, total); // far less than the read below
        byte[] many = bytes(cmd("ECHO", "x".repeat(40)).repeat(10));
        assertEquals(10, feed(ch, many).size());
        assertEquals(0, total.get());
        ch.finishAndReleaseAll();
    }

    @Test
    void aConnectionOverItsCapGetsTheErrorAndHoldsNothing() {
        AtomicLong total = new AtomicLong();
        EmbeddedChannel ch = capped(64, 4096, total);
        byte[] request = bytes(cmd("SET", "k", "v".repeat(100)));
        assertEquals(List.of(), feed(ch, Arrays.copyOf(request, 64))); // at the cap: held
        assertEquals(64, total.get());
        assertEquals(List.of("error: Protocol error: client query buffer limit of 64 bytes reached"),
                feed(ch, Arrays.copyOfRange(request, 64, 65), bytes(cmd("PING"))));
        assertEquals(0, total.get());
        ch.finishAndReleaseAll();
    }

    @Test
    void theConnectionThatWouldPassTheTotalGetsTheErrorAndTheOthersGoOn() {
        AtomicLong total = new AtomicLong();
        EmbeddedChannel a = capped(1024, 100, total);
        EmbeddedChannel b = capped(1024, 100, total);
        byte[] request = bytes(cmd("ECHO", "e".repeat(80))); // 99 bytes
        assertEquals(List.of(), feed(a, Arrays.copyOf(request, 60)));
        assertEquals(List.of(), feed(b, Arrays.copyOf(request, 40)));
        assertEquals(100, total.get());
        assertEquals(List.of("error: Protocol error: total query buffer limit of 100 bytes reached"),
                feed(b, Arrays.copyOfRange(request, 40, 41)));
        assertEquals(60, total.get()); // b's share given back, a's kept
        assertEquals(List.of("[ECHO, " + "e".repeat(80) + "]"), feed(a, Arrays.copyOfRange(request, 60, request.length)));
        assertEquals(0, total.get());
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void removingTheDecoderGivesItsShareBackAndTheNextDecoderCountsTheLeftover() {
        // What Connection.switchProtocol does: the old decoder leaves, its bytes go on to the new one.
        AtomicLong total = new AtomicLong();
        EmbeddedChannel ch = capped(1024, 4096, total);
        byte[] request = bytes(cmd("GET", "key"));
        feed(ch, Arrays.copyOf(request, 12));
        assertEquals(12, total.get());
        ch.pipeline().remove(RespDecoder.class);
        assertEquals(0, total.get());
        ByteBuf leftover = ch.readInbound();
        ch.pipeline().addLast(new RespDecoder(1024, 16, 1024, 1 << 20, 1024, 4096, total));
        assertEquals(List.of(), feed(ch, ByteBufUtil.getBytes(leftover)));
        leftover.release();
        assertEquals(12, total.get());
        assertEquals(List.of("[GET, key]"), feed(ch, Arrays.copyOfRange(request, 12, request.length)));
        assertEquals(0, total.get());
        ch.finishAndReleaseAll();
    }

    @Test
    void closingTheConnectionGivesItsShareBack() {
        AtomicLong total = new AtomicLong();
        EmbeddedChannel ch = capped(1024, 4096, total);
        feed(ch, bytes("*1\r\n$100\r\nabc"));
        assertEquals(13, total.get());
        ch.close();
        assertEquals(0, total.get());
        ch.finishAndReleaseAll();
    }
}
