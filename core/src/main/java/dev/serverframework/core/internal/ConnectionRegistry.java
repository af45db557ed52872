package dev.serverframework.core.internal;

import dev.serverframework.core.Connection;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The open connections of a server: by id for {@code Server.task}, by service for {@code Server.each},
 * and the count held against the connection limit. Thread-safe.
 */
public final class ConnectionRegistry {
    private final int maxConnections;
    private final AtomicInteger slots = new AtomicInteger();
    private final Map<Long, ChannelConnection> byId = new ConcurrentHashMap<>();
    private final Map<String, Set<ChannelConnection>> byService = new ConcurrentHashMap<>();

    ConnectionRegistry(int maxConnections) {
        this.maxConnections = maxConnections;
    }

    /** Takes a place under the limit for a new connection; false when the server is full. */
    public boolean tryReserveSlot() {
        if (slots.incrementAndGet() > maxConnections) {
            slots.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Gives back a place taken by {@link #tryReserveSlot()}. */
    public void releaseSlot() {
        slots.decrementAndGet();
    }

    /** Registers an opened connection under its id and its service. */
    public void add(ChannelConnection c) {
        byId.put(c.id(), c);
        byService.computeIfAbsent(c.service(), s -> ConcurrentHashMap.newKeySet()).add(c);
    }

    /** Removes a connection; true if it was here. */
    public boolean remove(ChannelConnection c) {
        if (byId.remove(c.id(), c)) {
            Set<ChannelConnection> set = byService.get(c.service());
            if (set != null) {
                set.remove(c);
            }
            return true;
        }
        return false;
    }

    /** Moves a connection that switched protocols from one service to another; nothing if it has left. */
    public void changeService(ChannelConnection c, String from, String to) {
        if (!byId.containsKey(c.id())) {
            return;
        }
        Set<ChannelConnection> old = byService.get(from);
        if (old != null) {
            old.remove(c);
        }
        byService.computeIfAbsent(to, s -> ConcurrentHashMap.newKeySet()).add(c);
    }

    /** The open connection with this id, or {@code null}. */
    public ChannelConnection get(long id) {
        return byId.get(id);
    }

    /** Open connections of a service, or of all when {@code service} is null. */
    public int count(String service) {
        if (service == null) {
            return byId.size();
        }
        Set<ChannelConnection> set = byService.get(service);
        return set == null ? 0 : set.size();
    }

    /** A snapshot of the connections of a service (all when null), without {@code exclude}. */
    public List<ChannelConnection> select(String service, Connection exclude) {
        Collection<ChannelConnection> source;
        if (service == null) {
            source = byId.values();
        } else {
            Set<ChannelConnection> set = byService.get(service);
            if (set == null) {
                return List.of();
            }
            source = set;
        }
        List<ChannelConnection> out = new ArrayList<>(source.size());
        for (ChannelConnection c : source) {
            if (c != exclude) {
                out.add(c);
            }
        }
        return out;
    }

    /** Every open connection. */
    public List<ChannelConnection> all() {
        return new ArrayList<>(byId.values());
    }
}
