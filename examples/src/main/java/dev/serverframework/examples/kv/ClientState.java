package dev.serverframework.examples.kv;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One kv connection's state, attached to it. Used only on the connection's executor (its callbacks and
 * the {@code Server.each} tasks that deliver published messages run there), so it needs no locks;
 * {@link #backlog} alone is also changed by write completions on the I/O loop.
 */
final class ClientState {
    /** Channels this connection is subscribed to; non-empty = RESP2 subscribe mode. */
    final Set<String> channels = new LinkedHashSet<>();
    /** Whether the connection runs (or is switching to) the subscriber protocol. */
    boolean subscriberService;
    /** Protocol switches requested and not yet done; replies wait in {@link #held} meanwhile. */
    int pendingSwitches;
    /** Replies of the current read batch, written as one buffer at its end; null when empty. */
    ByteBuf batch;
    /** Replies held back until the pending switches are done, in order. */
    final List<ByteBuf> held = new ArrayList<>();
    /** Close once the held replies are out (QUIT or a protocol error during a switch). */
    boolean closeWhenFlushed;
    /** QUIT or a protocol error was seen: later commands of the same batch are ignored. */
    boolean closing;
    /** CLIENT SETNAME's name, or null. */
    byte[] name;
    /** Bytes of published messages written to this subscriber and not yet sent. */
    final AtomicLong backlog = new AtomicLong();
}
