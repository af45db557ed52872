package dev.serverframework.examples.kv;

import dev.serverframework.core.Connection;
import dev.serverframework.core.Protocol;
import dev.serverframework.core.Subscription;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AttributeKey;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connected client as the kv server sees it (Redis's {@code client}): its replies, written in order and
 * gathered into one buffer per read; its subscriptions; its name. Kept in a connection attribute, so it
 * outlives the switches to and from the subscriber protocol.
 *
 * <p><b>Reply order.</b> Replies of one read batch are copied into one buffer and written at the batch's
 * end (one write however many pipelined commands the read held). While a protocol switch is pending, replies
 * are held back, and so are published messages that arrive meanwhile, behind them; the switch's {@code onOpen}
 * releases them in order.
 *
 * <p>Used only on the connection's executor (its callbacks and its subscriptions' handlers run there), so it
 * needs no locks; {@link #backlog} alone is also changed by write completions on the I/O loop.
 */
final class KvClient {
    private static final AttributeKey<KvClient> CLIENT = AttributeKey.valueOf(KvClient.class, "client");
    /** Replies of one read batch larger than this are written on their own instead of copied. */
    private static final int BATCH_COPY_LIMIT = 1024;

    private final Connection connection;
    /** This client's subscriptions by channel, in the order subscribed; non-empty = RESP2 subscribe mode. */
    final Map<String, Subscription> channels = new LinkedHashMap<>();
    /** Bytes of published messages written to this subscriber and not yet sent. */
    final AtomicLong backlog = new AtomicLong();
    /** CLIENT SETNAME's name, or null. */
    byte[] name;
    /** Whether the connection runs (or is switching to) the subscriber protocol. */
    private boolean subscriberService;
    /** Protocol switches requested and not yet done; replies wait in {@link #held} meanwhile. */
    private int pendingSwitches;
    /** Replies of the current read batch, written as one buffer at its end; null when empty. */
    private ByteBuf batch;
    /** Replies held back until the pending switches are done, in order. */
    private final List<ByteBuf> held = new ArrayList<>();
    /** Close once the held replies are out (QUIT or a protocol error during a switch). */
    private boolean closeWhenFlushed;
    /** QUIT or a protocol error was seen (or the connection closed): later commands are not run. */
    private boolean closing;

    private KvClient(Connection connection) {
        this.connection = connection;
    }

    /**
     * A connection (re)opened on a kv protocol: a new connection gets its client; one that switched
     * protocol on its client's request has its held replies released.
     */
    static void opened(Connection connection) {
        KvClient client = connection.attr(CLIENT).get();
        if (client == null) {
            connection.attr(CLIENT).set(new KvClient(connection));
        } else {
            client.switched();
        }
    }

    /** The client of a kv connection, or null before its first {@code onOpen}. */
    static KvClient of(Connection connection) {
        return connection.attr(CLIENT).get();
    }

    /** The client's connection. */
    Connection connection() {
        return connection;
    }

    /** Whether the client is in subscribe mode (subscribed to at least one channel). */
    boolean isSubscribed() {
        return !channels.isEmpty();
    }

    /** Whether the client is on its way out: QUIT, a protocol error, a drop, or its close. */
    boolean isClosing() {
        return closing;
    }

    /**
     * Queues a reply, taking it over: gathered into the batch buffer, written on its own when large, or held
     * while a protocol switch is pending.
     */
    void reply(ByteBuf reply) {
        if (pendingSwitches > 0) {
            held.add(reply);
        } else if (reply.readableBytes() > BATCH_COPY_LIMIT) {
            flushReplies();
            connection.write(reply);
        } else {
            if (batch == null) {
                batch = ByteBufAllocator.DEFAULT.directBuffer(256);
            }
            batch.writeBytes(reply);
            reply.release();
        }
    }

    /**
     * Writes a published message (taking it over) after the replies before it, or holds it while a switch is
     * pending; {@code size} bytes count in the {@link #backlog} until the transport has taken them.
     */
    void deliver(ByteBuf message, int size) {
        flushReplies(); // (with WORKER execution a task can come between a batch's commands)
        if (pendingSwitches > 0) {
            held.add(message);
            backlog.addAndGet(-size);
        } else {
            connection.write(message).addListener(f -> backlog.addAndGet(-size));
        }
    }

    /** Writes the gathered replies; before anything else is written, so order holds. */
    void flushReplies() {
        ByteBuf b = batch;
        if (b != null) {
            batch = null;
            connection.write(b);
        }
    }

    /** Runs no more commands, and closes once the replies so far are out (after a pending switch, if any). */
    void closeAfterReplies() {
        flushReplies();
        closing = true;
        if (pendingSwitches > 0) {
            closeWhenFlushed = true;
        } else {
            connection.close();
        }
    }

    /** Cuts the connection at once, dropping queued output (a subscriber that does not read). */
    void abort() {
        closing = true;
        connection.abort();
    }

    /**
     * Moves the connection to {@code subscriber} or {@code normal}, whichever its subscriptions call for. The
     * switch takes effect on the I/O loop later; until its {@code onOpen}, replies are held.
     */
    void switchProtocolIfNeeded(Protocol<?> normal, Protocol<?> subscriber) {
        boolean wanted = isSubscribed();
        if (wanted != subscriberService) {
            flushReplies(); // what came before the switch goes before what is held during it
            subscriberService = wanted;
            pendingSwitches++;
            connection.switchProtocol(wanted ? subscriber : normal);
        }
    }

    private void switched() {
        if (--pendingSwitches > 0) {
            return;
        }
        for (ByteBuf b : held) {
            connection.write(b);
        }
        held.clear();
        if (closeWhenFlushed) {
            connection.close();
        }
    }

    /** The connection closed: runs nothing more and releases what it held. */
    void closed() {
        closing = true;
        channels.clear();
        held.forEach(ByteBuf::release);
        held.clear();
        if (batch != null) {
            batch.release();
            batch = null;
        }
    }
}
