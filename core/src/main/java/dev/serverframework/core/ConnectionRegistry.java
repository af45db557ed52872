package dev.serverframework.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The open connections of a server: by id for {@link Server#task}, by service for {@link Server#each},
 * the count held against the connection limit, and the count of refused connections still being
 * answered. Thread-safe.
 */
final class ConnectionRegistry {
    private final int maxConnections;
    private final int maxRefusals;
    private final AtomicInteger slots = new AtomicInteger();
    private final AtomicInteger refusals = new AtomicInteger();
    private final Map<Long, ChannelConnection> byId = new ConcurrentHashMap<>();
    private final Map<String, Set<ChannelConnection>> byService = new ConcurrentHashMap<>();

    /**
     * @param maxConnections open connections allowed at once
     * @param maxRefusals    refused connections that may be answered at once (each holds a file descriptor)
     */
    ConnectionRegistry(int maxConnections, int maxRefusals) {
        this.maxConnections = maxConnections;
        this.maxRefusals = maxRefusals;
    }

    /** Takes a place under the limit for a new connection; false when the server is full. */
    boolean tryReserveSlot() {
        if (slots.incrementAndGet() > maxConnections) {
            slots.decrementAndGet();
            return false;
        }
        return true;
    }

    void releaseSlot() {
        slots.decrementAndGet();
    }

    /** Takes a place for answering a refused connection; false when too many are being answered already. */
    boolean tryReserveRefusal() {
        if (refusals.incrementAndGet() > maxRefusals) {
            refusals.decrementAndGet();
            return false;
        }
        return true;
    }

    void releaseRefusal() {
        refusals.decrementAndGet();
    }

    void add(ChannelConnection c) {
        byId.put(c.id(), c);
        byService.computeIfAbsent(c.service(), s -> ConcurrentHashMap.newKeySet()).add(c);
    }

    /** Removes a connection; true if it was here. */
    boolean remove(ChannelConnection c) {
        if (byId.remove(c.id(), c)) {
            Set<ChannelConnection> set = byService.get(c.service());
            if (set != null) {
                set.remove(c);
            }
            return true;
        }
        return false;
    }

    void changeService(ChannelConnection c, String from, String to) {
        if (!byId.containsKey(c.id())) {
            return;
        }
        Set<ChannelConnection> old = byService.get(from);
        if (old != null) {
            old.remove(c);
        }
        byService.computeIfAbsent(to, s -> ConcurrentHashMap.newKeySet()).add(c);
    }

    ChannelConnection get(long id) {
        return byId.get(id);
    }

    /** Open connections of a service, or of all when {@code service} is null. */
    int count(String service) {
        if (service == null) {
            return byId.size();
        }
        Set<ChannelConnection> set = byService.get(service);
        return set == null ? 0 : set.size();
    }

    /** A snapshot of the connections of a service (all when null), without {@code exclude}. */
    List<ChannelConnection> select(String service, Connection exclude) {
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
    List<ChannelConnection> all() {
        return new ArrayList<>(byId.values());
    }
}
