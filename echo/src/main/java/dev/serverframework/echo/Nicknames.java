package dev.serverframework.echo;


import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A room's nicknames: which member, present or away, holds each name. Thread-safe: the table changes
 * under one lock, which also orders the member state changes that free or pass on a name.
 */
final class Nicknames {
    /** The prefix of the names members get on joining, reserved for those. */
    static final String GUEST = "guest-";
    private static final Pattern NICKNAME = Pattern.compile("[\\p{L}\\p{N}_.-]{1,32}");

    private final ConcurrentHashMap<String, ChatMember> byName = new ConcurrentHashMap<>();
    private final Object lock = new Object();

    /** What became of a {@link #rename}. */
    enum Rename {
        /** The member has the name already. */
        SAME,
        /** Another member holds the name. */
        TAKEN,
        /** The member now has the name. */
        DONE,
        /** The member is no longer present (taken over by a rejoin meanwhile): nothing changed. */
        NOT_PRESENT
    }

    /** Whether {@code name} is 1 to 32 letters, digits, '_', '-' or '.'. */
    static boolean isWellFormed(String name) {
        return NICKNAME.matcher(name).matches();
    }

    /** The names held, sorted. Any thread. */
    List<String> sorted() {
        List<String> list = new ArrayList<>(byName.keySet());
        list.sort(null);
        return list;
    }

    /** A newly joined member takes its guest name, which no one else can hold. On its executor. */
    void add(ChatMember me) {
        byName.put(me.name, me);
    }

    /** The member, if present, takes {@code name} unless another holds it. On the member's executor. */
    Rename rename(ChatMember me, String name) {
        synchronized (lock) {
            if (!me.state.isPresent()) {
                return Rename.NOT_PRESENT;
            }
            if (name.equals(me.name)) {
                return Rename.SAME;
            }
            if (byName.putIfAbsent(name, me) != null) {
                return Rename.TAKEN;
            }
            String old = me.name;
            me.name = name;
            byName.remove(old, me);
            return Rename.DONE;
        }
    }

    /**
     * The member leaves for good and its name is freed, unless it has left or moved already. Returns
     * whether it left now. On the member's executor.
     */
    boolean free(ChatMember me) {
        synchronized (lock) {
            if (!me.state.leaveForGood()) {
                return false;
            }
            byName.remove(me.name, me);
            return true;
        }
    }

    /** A member that moved to another connection, and whether it was still present when it did. */
    record Handover(ChatMember successor, boolean tookOver) {
    }

    /**
     * A present or away member moves to another connection: the member {@code seat} makes with its name
     * takes its place and its name. Returns null when {@code previous} can no longer move (it is leaving
     * or has left). On the new connection's executor.
     */
    Handover handOver(ChatMember previous, Function<String, ChatMember> seat) {
        synchronized (lock) {
            Boolean wasPresent = previous.state.moveOut();
            if (wasPresent == null) {
                return null;
            }
            ChatMember successor = seat.apply(previous.name);
            byName.replace(successor.name, previous, successor);
            return new Handover(successor, wasPresent);
        }
    }
}
