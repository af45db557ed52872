package dev.serverframework.examples.kv;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The key space: binary-safe string keys and values with optional expiry, safe to use from every
 * thread at once (the I/O loops of all connections call it concurrently).
 *
 * <p>Keys are held as ISO-8859-1 {@link String}s: one char per byte, so any bytes round-trip, and Java
 * stores such strings compactly (one byte per char) with a cached hash. Each key's operations are
 * atomic ({@link ConcurrentHashMap#compute} for read-modify-write such as INCR or SET NX); a
 * multi-key command (MSET, DEL of several keys) is atomic per key, not as a whole.
 *
 * <p><b>Expiry</b>, as Redis does it: lazily, an expired entry is removed when a command touches it and
 * is never returned; and actively, {@link #removeExpired()} (which {@link KvProtocol} runs every
 * second) drops the expired entries no one asked for. Times are milliseconds of the given clock.
 */
public final class KvStore {
    /** An immutable value: replacing it is one atomic map operation. {@code expireAt} 0 = never. */
    record Entry(byte[] value, long expireAt) {
        boolean expired(long now) {
            return expireAt != 0 && expireAt <= now;
        }
    }

    /** Raised by {@link #incrementBy} when the stored value is not an integer. */
    static final class NotAnInteger extends RuntimeException {
        NotAnInteger() {
            super(null, null, false, false);
        }
    }

    /** Raised by {@link #incrementBy} when the result would not fit in a signed 64-bit integer. */
    static final class Overflow extends RuntimeException {
        Overflow() {
            super(null, null, false, false);
        }
    }

    /** SET's existence condition. */
    enum Condition { ALWAYS, IF_ABSENT, IF_PRESENT }

    private final ConcurrentHashMap<String, Entry> map = new ConcurrentHashMap<>();
    private final LongSupplier clock;

    /** A store on the wall clock ({@link System#currentTimeMillis()}). */
    public KvStore() {
        this(System::currentTimeMillis);
    }

    /** A store whose expiry follows {@code clock} (milliseconds); tests pass a manual one. */
    public KvStore(LongSupplier clock) {
        this.clock = clock;
    }

    /** The store's current time in milliseconds. */
    public long now() {
        return clock.getAsLong();
    }

    /** The value of a live key, or {@code null}. */
    public byte[] get(String key) {
        Entry e = live(key);
        return e == null ? null : e.value;
    }

    /** The live entry of a key, removing it if it has expired. */
    private Entry live(String key) {
        Entry e = map.get(key);
        if (e != null && e.expireAt != 0 && e.expired(now())) {
            map.remove(key, e); // only this entry: a newer value set meanwhile stays
            return null;
        }
        return e;
    }

    /** Sets a value with no expiry, replacing whatever was there (SET without options, MSET). */
    public void set(String key, byte[] value) {
        map.put(key, new Entry(value, 0));
    }

    /**
     * SET with options: stores the value if {@code condition} holds, with expiry {@code expireAt}
     * (absolute ms, 0 = none) or the old entry's expiry when {@code keepTtl}.
     *
     * @return whether the value was stored
     */
    boolean set(String key, byte[] value, long expireAt, Condition condition, boolean keepTtl) {
        if (condition == Condition.ALWAYS && !keepTtl) {
            map.put(key, new Entry(value, expireAt));
            return true;
        }
        long now = now();
        boolean[] stored = {false};
        map.compute(key, (k, old) -> {
            Entry current = old != null && old.expired(now) ? null : old;
            if (condition == Condition.IF_ABSENT && current != null
                    || condition == Condition.IF_PRESENT && current == null) {
                return current;
            }
            stored[0] = true;
            long at = keepTtl && current != null ? current.expireAt : expireAt;
            return new Entry(value, at);
        });
        return stored[0];
    }

    /** Removes a key; true if it existed and had not expired. */
    public boolean delete(String key) {
        Entry e = map.remove(key);
        return e != null && !e.expired(now());
    }

    /** Whether a key exists and has not expired. */
    public boolean exists(String key) {
        return live(key) != null;
    }

    /**
     * Adds {@code delta} to the integer stored at {@code key} (0 when absent), keeping its expiry.
     *
     * @return the new value
     * @throws NotAnInteger when the value is not a decimal 64-bit integer
     * @throws Overflow     when the result does not fit
     */
    long incrementBy(String key, long delta) {
        long now = now();
        long[] result = new long[1];
        map.compute(key, (k, old) -> {
            Entry current = old != null && old.expired(now) ? null : old;
            long value = 0;
            if (current != null) {
                Long parsed = Resp.parseLong(current.value);
                if (parsed == null) {
                    throw new NotAnInteger();
                }
                value = parsed;
            }
            long next;
            try {
                next = Math.addExact(value, delta);
            } catch (ArithmeticException e) {
                throw new Overflow();
            }
            result[0] = next;
            return new Entry(Long.toString(next).getBytes(StandardCharsets.US_ASCII),
                    current == null ? 0 : current.expireAt);
        });
        return result[0];
    }

    /**
     * Sets a live key's expiry to {@code expireAt} (absolute ms); a time not in the future deletes the
     * key, as Redis does.
     *
     * @return whether the key existed
     */
    boolean expireAt(String key, long expireAt) {
        long now = now();
        boolean[] existed = {false};
        map.computeIfPresent(key, (k, old) -> {
            if (old.expired(now)) {
                return null;
            }
            existed[0] = true;
            return expireAt <= now ? null : new Entry(old.value, expireAt);
        });
        return existed[0];
    }

    /** Milliseconds a key has left: -2 when it does not exist, -1 when it never expires. */
    public long ttlMillis(String key) {
        Entry e = live(key);
        if (e == null) {
            return -2;
        }
        if (e.expireAt == 0) {
            return -1;
        }
        return Math.max(0, e.expireAt - now());
    }

    /** How many keys the store holds (expired ones not yet removed included, as Redis's DBSIZE). */
    public int size() {
        return map.size();
    }

    /** Removes every key. */
    public void clear() {
        map.clear();
    }

    /**
     * Removes every expired entry. A full scan: simple and right for an example's key counts; Redis
     * samples keys with an expiry instead. Safe to run while commands change the map.
     *
     * @return how many entries it removed
     */
    public int removeExpired() {
        long now = now();
        int removed = 0;
        for (Map.Entry<String, Entry> e : map.entrySet()) {
            if (e.getValue().expired(now) && map.remove(e.getKey(), e.getValue())) {
                removed++;
            }
        }
        return removed;
    }
}
