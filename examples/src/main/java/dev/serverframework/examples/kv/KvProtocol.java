package dev.serverframework.examples.kv;

import dev.serverframework.core.BusyAnswer;
import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.core.SettingChecks;
import dev.serverframework.examples.kv.RespMessage.Command;
import dev.serverframework.examples.kv.RespMessage.ProtocolError;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Redis-compatible key-value protocol (RESP2): {@code redis-cli}, {@code redis-benchmark} and Redis
 * client libraries work against it unchanged.
 *
 * <pre>{@code
 * Server.builder().port(6380).protocol(KvProtocol.builder().build()).build().start();
 * }</pre>
 *
 * <p>Commands: PING, ECHO, SET (EX, PX, EXAT, PXAT, NX, XX, KEEPTTL), GET, DEL, EXISTS, INCR, DECR, INCRBY,
 * DECRBY, MGET, MSET, EXPIRE, PEXPIRE, TTL, PTTL, DBSIZE, FLUSHDB, QUIT, PUBLISH, SUBSCRIBE,
 * UNSUBSCRIBE, and minimal SELECT 0, COMMAND, CONFIG GET, CLIENT and INFO for clients that ask them at
 * start-up. Replies and errors are shaped as Redis 7 shapes them. Only strings exist, so no command here
 * can meet a value of the wrong type (Redis's WRONGTYPE).
 *
 * <p><b>Pipeline.</b> A {@link RespDecoder} turns bytes into {@link RespMessage}s (any split of the input,
 * limits on every length); this protocol's {@link #onData} runs each command through the {@link CommandTable}
 * and gathers the replies of one read into one buffer, in order. Malformed input ({@link #onData}) and input
 * over a limit ({@link #onInputTooLong}) get Redis's {@code -ERR Protocol error: ...} and the connection is
 * closed after the replies before it; other connections never notice.
 *
 * <p><b>Partial input.</b> What the decoders hold of requests still on their way is capped per connection
 * ({@link Builder#maxQueryBuffer}) and over all connections of this protocol ({@link Builder#maxTotalQueryBuffer}),
 * like Redis's {@code client-query-buffer-limit}: without the total cap, ten clients each sending most of a
 * 60 MiB value and never the end held 600 MiB. A connection that would break either cap gets a protocol
 * error and is closed; {@link #bufferedInputBytes()} tells the current total.
 *
 * <p><b>Execution: the I/O loop.</b> Every command is a few non-blocking {@link ConcurrentHashMap}
 * operations, cheaper than the hand-off to a worker thread would be; running on the I/O loop also lets
 * the replies to one read's pipelined commands go out in one flush at the end of the read.
 *
 * <p><b>Pub/sub.</b> PUBLISH and SUBSCRIBE go through the server's publish/subscribe
 * ({@code Server.publish}, {@code Server.subscribe}): kv servers built on one {@code PubSub}, or several kv
 * processes on the Redis engine, share their channels. PUBLISH answers with the number of subscribers in
 * <em>this</em> process that got the message, as Redis Cluster answers with its node's own count; channel
 * names must be valid UTF-8 (an error otherwise), so that they name the same channel in Redis. A connection
 * that subscribes switches ({@link Connection#switchProtocol}) to a second instance of this protocol whose
 * service is {@link #SUBSCRIBER_SERVICE}; when its last channel goes, it switches back
 * ({@link PubSubCommands}).
 *
 * <p>Thread-safe: one instance serves every connection.
 */
public final class KvProtocol implements Protocol<RespMessage> {
    /** The service of kv connections. */
    public static final String SERVICE = "kv";
    /** The service of kv connections subscribed to at least one channel. */
    public static final String SUBSCRIBER_SERVICE = "kv-subscriber";
    /** What a client over the connection limit is told before the close. */
    private static final byte[] BUSY = "-ERR max number of clients reached\r\n".getBytes(StandardCharsets.US_ASCII);
    /** The name of the decoder in the pipeline. */
    public static final String DECODER = "kv-resp-decoder";

    private final Builder settings;
    private final boolean subscriberView;
    /** Set in the constructor of the normal instance, for both (the two views refer to each other). */
    private CommandTable commands;
    private PubSubCommands pubSub;
    private final KvStore store;
    private final AtomicBoolean sweeping;
    /** Bytes of partial input held by the decoders of both views (see {@link #bufferedInputBytes()}). */
    private final AtomicLong bufferedInput;

    private KvProtocol(Builder settings) {
        this.settings = settings;
        this.subscriberView = false;
        this.store = settings.store != null ? settings.store : new KvStore();
        this.sweeping = new AtomicBoolean();
        this.bufferedInput = new AtomicLong();
        KvProtocol subscriber = new KvProtocol(this);
        this.pubSub = new PubSubCommands(this, subscriber, settings.maxSubscriberBacklog);
        this.commands = new CommandTable();
        KeyCommands.register(commands, store);
        pubSub.register(commands);
        ConnectionCommands.register(commands, store);
        subscriber.commands = commands;
        subscriber.pubSub = pubSub;
    }

    /** The subscriber view of {@code normal}: same store and commands, another service name. */
    private KvProtocol(KvProtocol normal) {
        this.settings = normal.settings;
        this.subscriberView = true;
        this.store = normal.store;
        this.sweeping = normal.sweeping;
        this.bufferedInput = normal.bufferedInput;
    }

    /** Starts building a kv protocol. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Bytes of partial (not yet complete) requests the connections of this protocol hold now, counted
     * against {@link Builder#maxTotalQueryBuffer}; its subscriber view shares the count. Any thread.
     */
    public long bufferedInputBytes() {
        return bufferedInput.get();
    }

    /** The key space this protocol serves. Any thread. */
    public KvStore store() {
        return store;
    }

    /** {@value #SERVICE}, or {@value #SUBSCRIBER_SERVICE} for the subscriber view. */
    @Override
    public String service() {
        return subscriberView ? SUBSCRIBER_SERVICE : SERVICE;
    }

    /** {@link Builder#execution}: the I/O loop unless set otherwise. */
    @Override
    public Execution execution() {
        return settings.execution;
    }

    /** Adds the RESP decoder. On the I/O loop. */
    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(DECODER, new RespDecoder(settings.maxBulkLength, settings.maxArguments,
                settings.maxInlineLength, settings.maxRequestLength, settings.maxQueryBuffer,
                settings.maxTotalQueryBuffer, bufferedInput));
    }

    /**
     * A new connection gets its state; on the first one the expiry sweep starts on the server's workers.
     * After a pub/sub switch, releases the replies held during it. On the connection's executor.
     */
    @Override
    public void onOpen(Connection connection) {
        if (!settings.sweepPeriod.isZero() && sweeping.compareAndSet(false, true)) {
            connection.server().runEvery(settings.sweepPeriod, 0, store::removeExpired);
        }
        KvClient.opened(connection);
    }

    /**
     * Runs a command, answers a malformed request, or, at the end of a read, writes the replies gathered
     * for it. After QUIT or a protocol error nothing more is run, as in Redis. On the connection's executor.
     */
    @Override
    public void onData(Connection connection, RespMessage message) {
        KvClient client = KvClient.of(connection);
        if (client.isClosing()) {
            return;
        }
        if (message instanceof Command command) {
            commands.run(client, command.args());
        } else if (message instanceof ProtocolError error) {
            connection.protocolError(error.message());
            answerAndClose(client, error.message());
        } else { // RespMessage.EndOfRead: the sealed type leaves nothing else
            client.flushReplies();
            if (!connection.server().isRunning() && !client.isSubscribed()) {
                // The server is stopping: these were the last replies. Closing right after them, the end
                // of stream follows an answer instead of waiting out the drain window under a looping client.
                client.closeAfterReplies();
            }
        }
    }

    /**
     * A request over a limit (a bulk string, the argument count, an inline line, the request, or the query
     * buffer caps): Redis's protocol error, then the close, as for malformed input (the framework has
     * counted it). On the connection's executor.
     */
    @Override
    public void onInputTooLong(Connection connection, TooLongFrameException cause) {
        KvClient client = KvClient.of(connection);
        if (!client.isClosing()) {
            answerAndClose(client, cause.getMessage());
        }
    }

    /** Answers the protocol error after the replies before it, and closes. */
    private static void answerAndClose(KvClient client, String message) {
        client.reply(Resp.error("ERR " + message));
        client.closeAfterReplies();
    }

    /** Drops the connection's subscriptions and anything it held. On the connection's executor. */
    @Override
    public void onClose(Connection connection) {
        KvClient client = KvClient.of(connection);
        if (client != null) {
            pubSub.closed(client);
            client.closed();
        }
    }

    /** Over the connection limit, Redis's own answer, at once (as Redis sends it on accept). */
    @Override
    public BusyAnswer busyAnswer() {
        return BusyAnswer.immediate(BUSY);
    }

    /**
     * Idle timeout: a subscriber only listens, so it stays (Redis never times out pub/sub clients);
     * any other connection is closed. On the connection's executor.
     */
    @Override
    public void ping(Connection connection) {
        KvClient client = KvClient.of(connection);
        if (client == null || !client.isSubscribed()) {
            connection.close();
        }
    }

    /** Limits and options of a {@link KvProtocol}; every setting has a default. */
    public static final class Builder {
        /** {@link #maxQueryBuffer}'s default: 128 MiB, the default {@link #maxRequestLength}. */
        public static final int DEFAULT_MAX_QUERY_BUFFER = 128 * 1024 * 1024;
        /** {@link #maxTotalQueryBuffer}'s default: 256 MiB. */
        public static final long DEFAULT_MAX_TOTAL_QUERY_BUFFER = 256L * 1024 * 1024;

        private int maxBulkLength = 64 * 1024 * 1024;
        private int maxArguments = 1024 * 1024;
        private int maxInlineLength = 64 * 1024;
        private int maxRequestLength = 128 * 1024 * 1024;
        private long maxSubscriberBacklog = 32L * 1024 * 1024;
        private int maxQueryBuffer = DEFAULT_MAX_QUERY_BUFFER;
        private long maxTotalQueryBuffer = DEFAULT_MAX_TOTAL_QUERY_BUFFER;
        private Execution execution = Execution.IO_LOOP;
        private Duration sweepPeriod = Duration.ofSeconds(1);
        private KvStore store;

        private Builder() {
        }

        /** Longest bulk string (one argument) accepted, in bytes (default 64 MiB). */
        public Builder maxBulkLength(int bytes) {
            this.maxBulkLength = SettingChecks.atLeast("maxBulkLength", bytes, 1);
            return this;
        }

        /** Most arguments in one request, the command name included (default 1,048,576). */
        public Builder maxArguments(int count) {
            this.maxArguments = SettingChecks.atLeast("maxArguments", count, 1);
            return this;
        }

        /** Longest inline command line, in bytes, without its line end (default 64 KiB). */
        public Builder maxInlineLength(int bytes) {
            this.maxInlineLength = SettingChecks.atLeast("maxInlineLength", bytes, 1);
            return this;
        }

        /** Most bytes in one request, framing included (default 128 MiB; at most 1 GiB). */
        public Builder maxRequestLength(int bytes) {
            this.maxRequestLength = SettingChecks.range("maxRequestLength", bytes, 1, 1024 * 1024 * 1024);
            return this;
        }

        /**
         * Most bytes of partial input (a request not yet complete) one connection may hold, like Redis's
         * {@code client-query-buffer-limit}; a connection over it gets
         * {@code -ERR Protocol error: client query buffer limit of N bytes reached} and is closed.
         *
         * <p>Default {@value #DEFAULT_MAX_QUERY_BUFFER} bytes (128 MiB): the default {@link #maxRequestLength},
         * so every request the other limits admit (up to 128 MiB with its framing, e.g. a value of the
         * default maximum bulk length, 64 MiB) can be held while it arrives. Raise it with
         * {@code maxRequestLength}; set it lower to cap what one client may make the server hold below the
         * request size limit.
         */
        public Builder maxQueryBuffer(int bytes) {
            this.maxQueryBuffer = SettingChecks.atLeast("maxQueryBuffer", bytes, 1);
            return this;
        }

        /**
         * Most bytes of partial input all connections of this protocol may hold together; the connection
         * whose input would pass it gets {@code -ERR Protocol error: total query buffer limit of N bytes
         * reached} and is closed, and the others are served on.
         *
         * <p>Default {@value #DEFAULT_MAX_TOTAL_QUERY_BUFFER} bytes (256 MiB): room for two requests of the
         * largest default size, or three 64 MiB values, arriving at once, while ten clients each sending a
         * 60 MiB value slowly (or never finishing it) can no longer make the server hold 600 MiB. A fixed
         * size rather than a share of the heap, because these buffers are (by Netty's default) direct memory
         * outside the heap, and an operator can reason about a number; set it from the memory the process may
         * use.
         */
        public Builder maxTotalQueryBuffer(long bytes) {
            this.maxTotalQueryBuffer = SettingChecks.atLeast("maxTotalQueryBuffer", bytes, 1);
            return this;
        }

        /** Bytes of unsent published messages after which a subscriber is dropped (default 32 MiB). */
        public Builder maxSubscriberBacklog(long bytes) {
            this.maxSubscriberBacklog = SettingChecks.atLeast("maxSubscriberBacklog", bytes, 1);
            return this;
        }

        /** Where commands run (default {@link Execution#IO_LOOP}: they never block). */
        public Builder execution(Execution execution) {
            this.execution = Objects.requireNonNull(execution, "execution");
            return this;
        }

        /**
         * How often expired keys nobody asks for are removed, at most once a day; {@link Duration#ZERO} = never
         * (default 1 s).
         */
        public Builder expirySweep(Duration period) {
            this.sweepPeriod = SettingChecks.range("expirySweep", period, Duration.ZERO, Duration.ofDays(1));
            return this;
        }

        /** The key space to serve (default: a new one on the wall clock). */
        public Builder store(KvStore store) {
            this.store = Objects.requireNonNull(store, "store");
            return this;
        }

        /** The protocol. */
        public KvProtocol build() {
            return new KvProtocol(this);
        }
    }
}
