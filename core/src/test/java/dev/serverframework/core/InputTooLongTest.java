package dev.serverframework.core;

import dev.serverframework.core.testing.Await;
import dev.serverframework.core.testing.RawClient;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.string.StringDecoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BiConsumer;

import static dev.serverframework.core.ConnectionTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A codec's {@link TooLongFrameException} reaches {@link Protocol#onInputTooLong}, after every message
 * decoded before it, never {@code onData}; nothing the peer sent after it is answered.
 */
class InputTooLongTest {
    private static final String TOO_LONG = "x".repeat(100);

    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.stop();
            server.awaitTermination(Duration.ofSeconds(10));
        }
    }

    /**
     * The framework counts one protocol error, and by default the connection closes once the replies to the
     * lines before it are out.
     */
    @Test
    void byDefaultTheConnectionClosesAfterTheRepliesBeforeIt() throws Exception {
        server = local(new ShortLines(null)).build().start();
        try (RawClient client = new RawClient(server.port())) {
            client.send("one\ntwo\n" + TOO_LONG + "\nthree\n" + TOO_LONG + "\n");
            assertEquals("got:one\ngot:two\n", new String(client.readToEndCleanly(), StandardCharsets.UTF_8));
        }
        Await.until("the protocol error is counted",
                () -> server.statistics().service(ShortLines.SERVICE).protocolErrors() >= 1);
        assertEquals(1, server.statistics().service(ShortLines.SERVICE).protocolErrors(),
                "the second line too long, read in the same batch, is not counted again");
    }

    /** A protocol that overrides it answers in its own language before it closes. */
    @Test
    void aProtocolCanAnswerBeforeItCloses() throws Exception {
        server = local(new ShortLines((c, cause) -> {
            c.write("error: line too long\n");
            c.close();
        })).build().start();
        try (RawClient client = new RawClient(server.port())) {
            client.send("one\n" + TOO_LONG + "\nthree\n");
            assertEquals("got:one\nerror: line too long\n",
                    new String(client.readToEndCleanly(), StandardCharsets.UTF_8));
        }
        Await.until("the protocol error is counted",
                () -> server.statistics().service(ShortLines.SERVICE).protocolErrors() == 1);
    }

    /** Lines of at most 16 bytes; a longer one makes Netty's line decoder fire TooLongFrameException. */
    private static final class ShortLines implements Protocol<String> {
        static final String SERVICE = "short-lines";
        private final BiConsumer<Connection, TooLongFrameException> onTooLong;

        ShortLines(BiConsumer<Connection, TooLongFrameException> onTooLong) {
            this.onTooLong = onTooLong;
        }

        @Override
        public String service() {
            return SERVICE;
        }

        @Override
        public void initPipeline(ChannelPipeline pipeline) {
            pipeline.addLast(new LineBasedFrameDecoder(16), new StringDecoder(StandardCharsets.UTF_8));
        }

        @Override
        public void onData(Connection connection, String line) {
            connection.write("got:" + line + "\n");
        }

        @Override
        public void onInputTooLong(Connection connection, TooLongFrameException cause) {
            if (onTooLong == null) {
                Protocol.super.onInputTooLong(connection, cause);
            } else {
                onTooLong.accept(connection, cause);
            }
        }
    }
}
