package dev.serverframework.examples.kv;

import dev.serverframework.core.Connection;
import dev.serverframework.core.PubSubMessage;
import dev.serverframework.core.Server;
import dev.serverframework.core.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

/**
 * PUBLISH, SUBSCRIBE and UNSUBSCRIBE over the server's publish/subscribe ({@link Server#publish},
 * {@link Server#subscribe(Connection, String, java.util.function.BiConsumer)}), so that several kv instances
 * built on one {@code PubSub} (in one process) or on the Redis engine (across processes) share channels.
 *
 * <p>A client that subscribes switches ({@link Connection#switchProtocol}) to the subscriber view of the kv
 * protocol, whose service is {@link KvProtocol#SUBSCRIBER_SERVICE}; when its last channel goes, it switches
 * back. Each channel of a client is one {@link Subscription}, whose handler runs on the client's executor:
 * a message that arrives while the switch is pending is held behind the confirmation ({@link KvClient}). A
 * subscriber that lets more than the backlog limit of messages pile up unread is dropped, like Redis's
 * pub/sub output buffer limit.
 *
 * <p><b>PUBLISH's count</b> is the number of subscribers in <em>this process</em> the message was handed to
 * (every server sharing the {@code PubSub} counts); subscribers of other instances, reached through the
 * engine, are not counted, as Redis Cluster's PUBLISH counts only the node's own subscribers.
 *
 * <p><b>Channel names</b> are bytes in RESP and text in the pub/sub API (and in Redis for the engine). A name
 * is decoded as UTF-8, so a channel named by redis-cli and one named here are the same channel on a real
 * Redis; a name that is not valid UTF-8 could not be carried exactly and gets an error instead of being
 * mangled into another channel's name.
 *
 * <p>Thread-safe: it holds no state of its own; each client's is used on that client's executor.
 */
final class PubSubCommands {
    private static final Logger log = LoggerFactory.getLogger(PubSubCommands.class);
    static final String INVALID_CHANNEL =
            "ERR channel names must be valid UTF-8 (channels are shared with other instances as text)";

    private final KvProtocol normal;
    private final KvProtocol subscriber;
    private final long maxSubscriberBacklog;

    /**
     * @param normal               the kv protocol a client without subscriptions runs
     * @param subscriber           its subscriber view, which a subscribed client runs
     * @param maxSubscriberBacklog bytes of unsent messages after which a subscriber is dropped
     */
    PubSubCommands(KvProtocol normal, KvProtocol subscriber, long maxSubscriberBacklog) {
        this.normal = normal;
        this.subscriber = subscriber;
        this.maxSubscriberBacklog = maxSubscriberBacklog;
    }

    /** Adds these commands to {@code table}. */
    void register(CommandTable table) {
        table.add("publish", 3, false, this::publish);
        table.add("subscribe", -2, true, this::subscribe);
        table.add("unsubscribe", -1, true, this::unsubscribe);
    }

    /**
     * The client's connection closed: its subscriptions end (the pub/sub would end them with the connection
     * anyway; cancelling here ends them before anything else can be delivered). On its executor.
     */
    void closed(KvClient client) {
        client.channels.values().forEach(Subscription::cancel);
        client.channels.clear();
    }

    /** PUBLISH: through the server's pub/sub; the reply counts this process's subscribers it reached. */
    private void publish(KvClient client, byte[][] a) {
        String channel = channelName(a[1]);
        if (channel == null) {
            client.reply(Resp.error(INVALID_CHANNEL));
            return;
        }
        int receivers = client.connection().server().publish(channel, a[2]);
        client.reply(Resp.integer(receivers));
    }

    /** A message of one of the client's channels: on the client's executor. */
    private void deliver(KvClient client, byte[] channel, PubSubMessage message) {
        if (client.isClosing()) {
            return;
        }
        byte[] payload = message.bytes();
        int size = payload.length + channel.length + 40;
        if (client.backlog.addAndGet(size) > maxSubscriberBacklog) {
            // Redis's client-output-buffer-limit for pub/sub: a subscriber that does not read is dropped
            // instead of growing the server's memory without bound.
            Connection target = client.connection();
            log.info("Connection {}: subscriber fell {} bytes behind; dropping it", target.id(), client.backlog.get());
            target.protocolError("subscriber output backlog over " + maxSubscriberBacklog + " bytes");
            client.abort();
            return;
        }
        client.deliver(EncodedMessages.of(channel, message), size);
    }

    private void subscribe(KvClient client, byte[][] a) {
        String[] names = new String[a.length];
        for (int i = 1; i < a.length; i++) {
            names[i] = channelName(a[i]);
            if (names[i] == null) {
                // checked before any is subscribed, so the command is all or nothing
                client.reply(Resp.error(INVALID_CHANNEL));
                return;
            }
        }
        Server server = client.connection().server();
        for (int i = 1; i < a.length; i++) {
            String channel = names[i];
            if (!client.channels.containsKey(channel)) {
                byte[] name = a[i];
                client.channels.put(channel,
                        server.subscribe(client.connection(), channel, (c, m) -> deliver(client, name, m)));
            }
            client.switchProtocolIfNeeded(normal, subscriber);
            client.reply(Resp.subscription("subscribe", a[i], client.channels.size()));
        }
    }

    private void unsubscribe(KvClient client, byte[][] a) {
        if (a.length == 1) {
            if (client.channels.isEmpty()) {
                client.reply(Resp.subscription("unsubscribe", null, 0));
            }
            for (String channel : new ArrayList<>(client.channels.keySet())) {
                unsubscribe(client, channel, channel.getBytes(StandardCharsets.UTF_8));
            }
        } else {
            for (int i = 1; i < a.length; i++) {
                // A name that is not UTF-8 cannot have been subscribed: only the confirmation is due.
                unsubscribe(client, channelName(a[i]), a[i]);
            }
        }
        client.switchProtocolIfNeeded(normal, subscriber);
    }

    private void unsubscribe(KvClient client, String channel, byte[] name) {
        Subscription s = channel == null ? null : client.channels.remove(channel);
        if (s != null) {
            s.cancel();
        }
        client.reply(Resp.subscription("unsubscribe", name, client.channels.size()));
    }

    /**
     * A channel name as the pub/sub API and Redis take it: the bytes decoded as UTF-8, which encodes back to
     * the same bytes; null when they are not valid UTF-8.
     */
    static String channelName(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
