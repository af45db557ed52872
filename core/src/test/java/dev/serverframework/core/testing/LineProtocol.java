package dev.serverframework.core.testing;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;

import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/** A line protocol for tests: each line, decoded as a String, goes to the given handler. */
public class LineProtocol implements Protocol<String> {
    private final String service;
    private final BiConsumer<Connection, String> onLine;

    public LineProtocol(String service, BiConsumer<Connection, String> onLine) {
        this.service = service;
        this.onLine = onLine;
    }

    @Override
    public String service() {
        return service;
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast("line", new LineBasedFrameDecoder(64 * 1024));
        pipeline.addLast("string", new StringDecoder(StandardCharsets.UTF_8));
    }

    @Override
    public void onData(Connection connection, String line) {
        onLine.accept(connection, line);
    }
}
