package dev.serverframework.examples.kv;

import static dev.serverframework.examples.kv.CommandTable.key;
import static dev.serverframework.examples.kv.CommandTable.upperCase;

/**
 * The commands on the key space, answered as Redis 7 answers them: SET (EX, PX, EXAT, PXAT, NX, XX,
 * KEEPTTL), GET, DEL, EXISTS, INCR, DECR, INCRBY, DECRBY, MGET, MSET, EXPIRE, PEXPIRE, TTL, PTTL, DBSIZE,
 * FLUSHDB. Only strings exist, so no command here can meet a value of the wrong type (Redis's WRONGTYPE).
 * Stateless beyond the {@link KvStore}, which is thread-safe: any executor.
 */
final class KeyCommands {
    private final KvStore store;

    private KeyCommands(KvStore store) {
        this.store = store;
    }

    /** Adds these commands, working on {@code store}, to {@code table}. */
    static void register(CommandTable table, KvStore store) {
        KeyCommands k = new KeyCommands(store);
        table.add("set", -3, false, k::set);
        table.add("get", 2, false, (client, a) -> client.reply(Resp.bulk(store.get(key(a[1])))));
        table.add("del", -2, false, k::del);
        table.add("exists", -2, false, k::exists);
        table.add("incr", 2, false, (client, a) -> k.incrementBy(client, a[1], 1));
        table.add("decr", 2, false, (client, a) -> k.incrementBy(client, a[1], -1));
        table.add("incrby", 3, false, (client, a) -> k.incrementBy(client, a, false));
        table.add("decrby", 3, false, (client, a) -> k.incrementBy(client, a, true));
        table.add("mget", -2, false, k::mget);
        table.add("mset", -3, false, k::mset);
        table.add("expire", 3, false, (client, a) -> k.expire(client, a, 1000, "expire"));
        table.add("pexpire", 3, false, (client, a) -> k.expire(client, a, 1, "pexpire"));
        table.add("ttl", 2, false, (client, a) -> k.ttl(client, a, true));
        table.add("pttl", 2, false, (client, a) -> k.ttl(client, a, false));
        table.add("dbsize", 1, false, (client, a) -> client.reply(Resp.integer(store.size())));
        table.add("flushdb", -1, false, k::flushdb);
    }

    private void set(KvClient client, byte[][] a) {
        if (a.length == 3) {
            store.set(key(a[1]), a[2]);
            client.reply(Resp.shared(Resp.OK));
            return;
        }
        KvStore.Condition condition = KvStore.Condition.ALWAYS;
        boolean keepTtl = false;
        String unit = null;
        byte[] expire = null;
        for (int i = 3; i < a.length; i++) {
            String option = upperCase(a[i]);
            boolean hasNext = i + 1 < a.length;
            switch (option) {
                case "NX" -> {
                    if (condition == KvStore.Condition.IF_PRESENT) {
                        client.reply(Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    condition = KvStore.Condition.IF_ABSENT;
                }
                case "XX" -> {
                    if (condition == KvStore.Condition.IF_ABSENT) {
                        client.reply(Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    condition = KvStore.Condition.IF_PRESENT;
                }
                case "KEEPTTL" -> {
                    if (unit != null) {
                        client.reply(Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    keepTtl = true;
                }
                case "EX", "PX", "EXAT", "PXAT" -> {
                    if (keepTtl || unit != null || !hasNext) {
                        client.reply(Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    unit = option;
                    expire = a[++i];
                }
                default -> {
                    client.reply(Resp.shared(Resp.SYNTAX_ERROR));
                    return;
                }
            }
        }
        long expireAt = 0;
        if (unit != null) {
            Long n = Resp.parseLong(expire);
            if (n == null) {
                client.reply(Resp.shared(Resp.NOT_INTEGER));
                return;
            }
            boolean seconds = unit.equals("EX") || unit.equals("EXAT");
            boolean absolute = unit.startsWith("EXAT") || unit.equals("PXAT");
            long ms = n;
            if (ms <= 0 || seconds && ms > Long.MAX_VALUE / 1000) {
                client.reply(Resp.error("ERR invalid expire time in 'set' command"));
                return;
            }
            if (seconds) {
                ms *= 1000;
            }
            if (!absolute) {
                ms = addOrNegative(ms, store.now());
            }
            if (ms <= 0) {
                client.reply(Resp.error("ERR invalid expire time in 'set' command"));
                return;
            }
            expireAt = ms;
        }
        boolean stored = store.set(key(a[1]), a[2], expireAt, condition, keepTtl);
        client.reply(Resp.shared(stored ? Resp.OK : Resp.NULL_BULK));
    }

    private static long addOrNegative(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? -1 : r;
    }

    private void del(KvClient client, byte[][] a) {
        long n = 0;
        for (int i = 1; i < a.length; i++) {
            if (store.delete(key(a[i]))) {
                n++;
            }
        }
        client.reply(Resp.integer(n));
    }

    private void exists(KvClient client, byte[][] a) {
        long n = 0;
        for (int i = 1; i < a.length; i++) {
            if (store.exists(key(a[i]))) {
                n++;
            }
        }
        client.reply(Resp.integer(n));
    }

    private void incrementBy(KvClient client, byte[][] a, boolean negate) {
        Long delta = Resp.parseLong(a[2]);
        if (delta == null) {
            client.reply(Resp.shared(Resp.NOT_INTEGER));
        } else if (negate && delta == Long.MIN_VALUE) {
            client.reply(Resp.error("ERR decrement would overflow"));
        } else {
            incrementBy(client, a[1], negate ? -delta : delta);
        }
    }

    private void incrementBy(KvClient client, byte[] key, long delta) {
        try {
            client.reply(Resp.integer(store.incrementBy(key(key), delta)));
        } catch (KvStore.NotAnInteger e) {
            client.reply(Resp.shared(Resp.NOT_INTEGER));
        } catch (KvStore.Overflow e) {
            client.reply(Resp.shared(Resp.OVERFLOW));
        }
    }

    private void mget(KvClient client, byte[][] a) {
        byte[][] values = new byte[a.length - 1][];
        for (int i = 1; i < a.length; i++) {
            values[i - 1] = store.get(key(a[i]));
        }
        client.reply(Resp.bulkArray(values));
    }

    private void mset(KvClient client, byte[][] a) {
        if (a.length % 2 == 0) {
            client.reply(Resp.error("ERR wrong number of arguments for 'mset' command"));
            return;
        }
        for (int i = 1; i < a.length; i += 2) {
            store.set(key(a[i]), a[i + 1]);
        }
        client.reply(Resp.shared(Resp.OK));
    }

    private void expire(KvClient client, byte[][] a, long unitMillis, String name) {
        Long n = Resp.parseLong(a[2]);
        if (n == null) {
            client.reply(Resp.shared(Resp.NOT_INTEGER));
            return;
        }
        long ms = n;
        if (unitMillis == 1000 && (ms > Long.MAX_VALUE / 1000 || ms < Long.MIN_VALUE / 1000)) {
            client.reply(Resp.error("ERR invalid expire time in '" + name + "' command"));
            return;
        }
        ms *= unitMillis;
        long now = store.now();
        long at = ms + now;
        if (((ms ^ at) & (now ^ at)) < 0) {
            client.reply(Resp.error("ERR invalid expire time in '" + name + "' command"));
            return;
        }
        client.reply(Resp.integer(store.expireAt(key(a[1]), at) ? 1 : 0));
    }

    private void ttl(KvClient client, byte[][] a, boolean seconds) {
        long ms = store.ttlMillis(key(a[1]));
        if (ms == -2) {
            client.reply(Resp.shared(Resp.MINUS_TWO));
        } else if (ms == -1) {
            client.reply(Resp.shared(Resp.MINUS_ONE));
        } else {
            client.reply(Resp.integer(seconds ? (ms + 500) / 1000 : ms));
        }
    }

    private void flushdb(KvClient client, byte[][] a) {
        if (a.length > 2 || a.length == 2 && !upperCase(a[1]).equals("ASYNC") && !upperCase(a[1]).equals("SYNC")) {
            client.reply(Resp.shared(Resp.SYNTAX_ERROR));
            return;
        }
        store.clear();
        client.reply(Resp.shared(Resp.OK));
    }
}
