package dev.serverframework.examples.kv;

import dev.serverframework.core.Connection;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentHashMap;

import static dev.serverframework.examples.kv.CommandTable.key;

/**
 * PUBLISH, SUBSCRIBE and UNSUBSCRIBE, and the delivery of published messages.
 *
 * <p>A client that subscribes switches ({@link Connection#switchProtocol}) to the subscriber view of the kv
 * protocol, whose service is {@link KvProtocol#SUBSCRIBER_SERVICE}; PUBLISH reaches exactly those connections
 * with one {@code Server.each(origin, SUBSCRIBER_SERVICE, task, onFinish)}, each task on its subscriber's
 * executor checking that subscriber's own channels, so no lock is shared between connections and a plain kv
 * connection never gets a task. When its last channel goes, the client switches back. A subscriber that lets
 * more than the backlog limit of messages pile up unread is dropped, like Redis's pub/sub output buffer limit.
 *
 * <p>Thread-safe: the subscriber counts are a concurrent map; everything else is the calling client's, on its
 * executor.
 */
final class PubSubCommands {
    private static final Logger log = LoggerFactory.getLogger(PubSubCommands.class);

    private final KvProtocol normal;
    private final KvProtocol subscriber;
    private final long maxSubscriberBacklog;
    /** Subscribers per channel, for PUBLISH's count and to skip the broadcast when there are none. */
    private final ConcurrentHashMap<String, Integer> subscriberCounts = new ConcurrentHashMap<>();

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

    /** The client's connection closed: its subscriptions no longer count. On its executor. */
    void closed(KvClient client) {
        for (String channel : client.channels) {
            subscriberCounts.computeIfPresent(channel, (k, n) -> n == 1 ? null : n - 1);
        }
        client.channels.clear();
    }

    /**
     * PUBLISH: one {@code Server.each} over the subscriber service (only connections subscribed to
     * something), each task on its subscriber's executor checking that subscriber's own channels. The
     * reply counts the channel's subscribers now, as Redis does.
     */
    private void publish(KvClient client, byte[][] a) {
        String channel = key(a[1]);
        int receivers = subscriberCounts.getOrDefault(channel, 0);
        if (receivers > 0) {
            ByteBuf message = Resp.message(a[1], a[2]);
            Connection origin = client.connection();
            // Each subscriber writes a duplicate of one buffer; the last reference goes when all are done.
            origin.server().each(origin, KvProtocol.SUBSCRIBER_SERVICE, target -> deliver(target, channel, message),
                    message::release);
        }
        client.reply(Resp.integer(receivers));
    }

    /** On the subscriber's executor. */
    private void deliver(Connection target, String channel, ByteBuf message) {
        KvClient t = KvClient.of(target);
        if (t == null || t.isClosing() || !t.channels.contains(channel)) {
            return;
        }
        int size = message.readableBytes();
        if (t.backlog.addAndGet(size) > maxSubscriberBacklog) {
            // Redis's client-output-buffer-limit for pub/sub: a subscriber that does not read is dropped
            // instead of growing the server's memory without bound.
            log.info("Connection {}: subscriber fell {} bytes behind; dropping it", target.id(), t.backlog.get());
            target.protocolError("subscriber output backlog over " + maxSubscriberBacklog + " bytes");
            t.abort();
            return;
        }
        t.deliver(message.retainedDuplicate(), size);
    }

    private void subscribe(KvClient client, byte[][] a) {
        for (int i = 1; i < a.length; i++) {
            String channel = key(a[i]);
            if (client.channels.add(channel)) {
                subscriberCounts.merge(channel, 1, Integer::sum);
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
            for (String channel : new ArrayList<>(client.channels)) {
                unsubscribe(client, channel);
            }
        } else {
            for (int i = 1; i < a.length; i++) {
                unsubscribe(client, key(a[i]));
            }
        }
        client.switchProtocolIfNeeded(normal, subscriber);
    }

    private void unsubscribe(KvClient client, String channel) {
        if (client.channels.remove(channel)) {
            subscriberCounts.computeIfPresent(channel, (k, n) -> n == 1 ? null : n - 1);
        }
        client.reply(Resp.subscription("unsubscribe", channel.getBytes(StandardCharsets.ISO_8859_1),
                client.channels.size()));
    }
}
