package dev.serverframework.examples.kv;

import dev.serverframework.core.Connection;
import io.netty.buffer.ByteBuf;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The commands: what each one does with the store and how it answers, shaped as Redis 7 answers
 * (arity checks, error texts, pub/sub replies). Shared by every kv connection; every method runs on the
 * calling connection's executor and keeps its per-connection state in its {@link ClientState}.
 */
final class KvCommands {
    /** A connection's client state; it outlives the switch to and from pub/sub mode. */
    private static final AttributeKey<ClientState> STATE = AttributeKey.valueOf(KvCommands.class, "state");
    private static final Logger log = LoggerFactory.getLogger(KvCommands.class);

    /** A command's code: runs on the connection's executor. */
    @FunctionalInterface
    private interface Handler {
        void run(Connection c, ClientState s, byte[][] args);
    }

    /**
     * A command as Redis declares it: lower-case name, arity (n = exactly n words with the name,
     * -n = at least n), and whether a subscribed RESP2 connection may run it.
     */
    private record Command(String name, int arity, boolean inSubscribeMode, Handler handler) {
    }

    private final KvStore store;
    private final KvProtocol normal;
    private final KvProtocol subscriber;
    private final long maxSubscriberBacklog;
    private final Map<String, Command> table = new HashMap<>();
    /** Subscribers per channel, for PUBLISH's count and to skip the broadcast when there are none. */
    private final ConcurrentHashMap<String, Integer> subscriberCounts = new ConcurrentHashMap<>();

    KvCommands(KvStore store, KvProtocol normal, KvProtocol subscriber, long maxSubscriberBacklog) {
        this.store = store;
        this.normal = normal;
        this.subscriber = subscriber;
        this.maxSubscriberBacklog = maxSubscriberBacklog;
        add("ping", -1, true, this::ping);
        add("echo", 2, false, (c, s, a) -> reply(c, s, Resp.bulk(a[1])));
        add("set", -3, false, this::set);
        add("get", 2, false, (c, s, a) -> reply(c, s, Resp.bulk(store.get(key(a[1])))));
        add("del", -2, false, this::del);
        add("exists", -2, false, this::exists);
        add("incr", 2, false, (c, s, a) -> incrementBy(c, s, a[1], 1));
        add("decr", 2, false, (c, s, a) -> incrementBy(c, s, a[1], -1));
        add("incrby", 3, false, (c, s, a) -> incrementBy(c, s, a, false));
        add("decrby", 3, false, (c, s, a) -> incrementBy(c, s, a, true));
        add("mget", -2, false, this::mget);
        add("mset", -3, false, this::mset);
        add("expire", 3, false, (c, s, a) -> expire(c, s, a, 1000, "expire"));
        add("pexpire", 3, false, (c, s, a) -> expire(c, s, a, 1, "pexpire"));
        add("ttl", 2, false, (c, s, a) -> ttl(c, s, a, true));
        add("pttl", 2, false, (c, s, a) -> ttl(c, s, a, false));
        add("dbsize", 1, false, (c, s, a) -> reply(c, s, Resp.integer(store.size())));
        add("flushdb", -1, false, this::flushdb);
        add("quit", -1, true, this::quit);
        add("publish", 3, false, this::publish);
        add("subscribe", -2, true, this::subscribe);
        add("unsubscribe", -1, true, this::unsubscribe);
        add("select", 2, false, this::select);
        // Minimal answers to what redis-cli and redis-benchmark ask a server when they start.
        add("command", -1, false, this::command);
        add("config", -2, false, this::config);
        add("client", -2, false, this::client);
        add("info", -1, false, this::info);
    }

    private void add(String name, int arity, boolean inSubscribeMode, Handler handler) {
        table.put(name, new Command(name, arity, inSubscribeMode, handler));
    }

    // ---- connection events ----

    void opened(Connection c) {
        ClientState s = c.attr(STATE).get();
        if (s != null) {
            // a protocol switch this connection asked for is done: its service is what its state says
            switched(c, s);
        } else {
            c.attr(STATE).set(new ClientState());
        }
    }

    void closed(Connection c) {
        ClientState s = c.attr(STATE).get();
        if (s == null) {
            return;
        }
        s.closing = true;
        for (String channel : s.channels) {
            subscriberCounts.computeIfPresent(channel, (k, n) -> n == 1 ? null : n - 1);
        }
        s.channels.clear();
        s.held.forEach(ByteBuf::release);
        s.held.clear();
        if (s.batch != null) {
            s.batch.release();
            s.batch = null;
        }
    }

    boolean isSubscribed(Connection c) {
        ClientState s = c.attr(STATE).get();
        return s != null && !s.channels.isEmpty();
    }

    /** Runs one decoded request. */
    void handle(Connection c, Object message) {
        ClientState s = c.attr(STATE).get();
        if (s.closing) {
            return; // after QUIT or a protocol error, as Redis: the rest of the input is not run
        }
        if (message == RespDecoder.BATCH_END) {
            flushBatch(c, s);
            if (!c.server().isRunning() && s.channels.isEmpty()) {
                // The server is stopping: these were the last replies. Closing right after them, the end
                // of stream follows an answer instead of waiting out the drain window under a looping client.
                closeAfterReplies(c, s);
            }
            return;
        }
        if (message instanceof RespDecoder.ProtocolError error) {
            c.protocolError(error.message());
            reply(c, s, Resp.error("ERR " + error.message()));
            closeAfterReplies(c, s);
            return;
        }
        byte[][] args = (byte[][]) message;
        Command cmd = table.get(lowerCase(args[0]));
        if (cmd == null) {
            reply(c, s, Resp.error(unknownCommand(args)));
            return;
        }
        if (cmd.arity > 0 ? args.length != cmd.arity : args.length < -cmd.arity) {
            reply(c, s, Resp.error("ERR wrong number of arguments for '" + cmd.name + "' command"));
            return;
        }
        if (!cmd.inSubscribeMode && !s.channels.isEmpty()) {
            reply(c, s, Resp.error("ERR Can't execute '" + cmd.name + "': only (P|S)SUBSCRIBE / "
                    + "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"));
            return;
        }
        cmd.handler.run(c, s, args);
    }

    /** Redis's text: the name and the first arguments, each cut so the whole stays near 128 chars. */
    private static String unknownCommand(byte[][] args) {
        StringBuilder rest = new StringBuilder();
        for (int i = 1; i < args.length && rest.length() < 128; i++) {
            String arg = key(args[i]);
            int room = 128 - rest.length();
            rest.append('\'').append(arg, 0, Math.min(arg.length(), room)).append("' ");
        }
        String name = key(args[0]);
        return "ERR unknown command '" + name.substring(0, Math.min(128, name.length()))
                + "', with args beginning with: " + rest;
    }

    // ---- replies: in order, held back while a protocol switch is pending ----

    /** Replies of one read batch larger than this are written on their own instead of copied. */
    private static final int BATCH_COPY_LIMIT = 1024;

    /**
     * Queues a reply: gathered into the batch buffer (one write per read batch however many pipelined
     * commands it held), or held while a protocol switch is pending.
     */
    private static void reply(Connection c, ClientState s, ByteBuf reply) {
        if (s.pendingSwitches > 0) {
            s.held.add(reply);
        } else if (reply.readableBytes() > BATCH_COPY_LIMIT) {
            flushBatch(c, s);
            c.write(reply);
        } else {
            if (s.batch == null) {
                s.batch = io.netty.buffer.ByteBufAllocator.DEFAULT.directBuffer(256);
            }
            s.batch.writeBytes(reply);
            reply.release();
        }
    }

    /** Writes the gathered replies; before anything else is written, so order holds. */
    private static void flushBatch(Connection c, ClientState s) {
        ByteBuf b = s.batch;
        if (b != null) {
            s.batch = null;
            c.write(b);
        }
    }

    private static void closeAfterReplies(Connection c, ClientState s) {
        flushBatch(c, s);
        s.closing = true;
        if (s.pendingSwitches > 0) {
            s.closeWhenFlushed = true;
        } else {
            c.close();
        }
    }

    private static void switched(Connection c, ClientState s) {
        if (--s.pendingSwitches > 0) {
            return;
        }
        for (ByteBuf b : s.held) {
            c.write(b);
        }
        s.held.clear();
        if (s.closeWhenFlushed) {
            c.close();
        }
    }

    /**
     * Moves the connection to the protocol its subscriptions call for. The switch takes effect on the I/O
     * loop later; until its onOpen says it is done, replies are held, so a client never sees a subscribe
     * confirmation before PUBLISH's {@code Server.each} can reach it.
     */
    private void updateService(Connection c, ClientState s) {
        boolean wanted = !s.channels.isEmpty();
        if (wanted != s.subscriberService) {
            flushBatch(c, s); // what came before the switch goes before what is held during it
            s.subscriberService = wanted;
            s.pendingSwitches++;
            c.switchProtocol(wanted ? subscriber : normal);
        }
    }

    // ---- commands ----

    private void ping(Connection c, ClientState s, byte[][] a) {
        if (a.length > 2) {
            reply(c, s, Resp.error("ERR wrong number of arguments for 'ping' command"));
        } else if (!s.channels.isEmpty()) {
            reply(c, s, Resp.bulkArray(new byte[][] {"pong".getBytes(StandardCharsets.US_ASCII),
                    a.length == 2 ? a[1] : new byte[0]}));
        } else if (a.length == 2) {
            reply(c, s, Resp.bulk(a[1]));
        } else {
            reply(c, s, Resp.shared(Resp.PONG));
        }
    }

    private void set(Connection c, ClientState s, byte[][] a) {
        if (a.length == 3) {
            store.set(key(a[1]), a[2]);
            reply(c, s, Resp.shared(Resp.OK));
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
                        reply(c, s, Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    condition = KvStore.Condition.IF_ABSENT;
                }
                case "XX" -> {
                    if (condition == KvStore.Condition.IF_ABSENT) {
                        reply(c, s, Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    condition = KvStore.Condition.IF_PRESENT;
                }
                case "KEEPTTL" -> {
                    if (unit != null) {
                        reply(c, s, Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    keepTtl = true;
                }
                case "EX", "PX", "EXAT", "PXAT" -> {
                    if (keepTtl || unit != null || !hasNext) {
                        reply(c, s, Resp.shared(Resp.SYNTAX_ERROR));
                        return;
                    }
                    unit = option;
                    expire = a[++i];
                }
                default -> {
                    reply(c, s, Resp.shared(Resp.SYNTAX_ERROR));
                    return;
                }
            }
        }
        long expireAt = 0;
        if (unit != null) {
            Long n = Resp.parseLong(expire);
            if (n == null) {
                reply(c, s, Resp.shared(Resp.NOT_INTEGER));
                return;
            }
            boolean seconds = unit.equals("EX") || unit.equals("EXAT");
            boolean absolute = unit.startsWith("EXAT") || unit.equals("PXAT");
            long ms = n;
            if (ms <= 0 || seconds && ms > Long.MAX_VALUE / 1000) {
                reply(c, s, Resp.error("ERR invalid expire time in 'set' command"));
                return;
            }
            if (seconds) {
                ms *= 1000;
            }
            if (!absolute) {
                ms = addOrNegative(ms, store.now());
            }
            if (ms <= 0) {
                reply(c, s, Resp.error("ERR invalid expire time in 'set' command"));
                return;
            }
            expireAt = ms;
        }
        boolean stored = store.set(key(a[1]), a[2], expireAt, condition, keepTtl);
        reply(c, s, Resp.shared(stored ? Resp.OK : Resp.NULL_BULK));
    }

    private static long addOrNegative(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? -1 : r;
    }

    private void del(Connection c, ClientState s, byte[][] a) {
        long n = 0;
        for (int i = 1; i < a.length; i++) {
            if (store.delete(key(a[i]))) {
                n++;
            }
        }
        reply(c, s, Resp.integer(n));
    }

    private void exists(Connection c, ClientState s, byte[][] a) {
        long n = 0;
        for (int i = 1; i < a.length; i++) {
            if (store.exists(key(a[i]))) {
                n++;
            }
        }
        reply(c, s, Resp.integer(n));
    }

    private void incrementBy(Connection c, ClientState s, byte[][] a, boolean negate) {
        Long delta = Resp.parseLong(a[2]);
        if (delta == null) {
            reply(c, s, Resp.shared(Resp.NOT_INTEGER));
        } else if (negate && delta == Long.MIN_VALUE) {
            reply(c, s, Resp.error("ERR decrement would overflow"));
        } else {
            incrementBy(c, s, a[1], negate ? -delta : delta);
        }
    }

    private void incrementBy(Connection c, ClientState s, byte[] key, long delta) {
        try {
            reply(c, s, Resp.integer(store.incrementBy(key(key), delta)));
        } catch (KvStore.NotAnInteger e) {
            reply(c, s, Resp.shared(Resp.NOT_INTEGER));
        } catch (KvStore.Overflow e) {
            reply(c, s, Resp.shared(Resp.OVERFLOW));
        }
    }

    private void mget(Connection c, ClientState s, byte[][] a) {
        byte[][] values = new byte[a.length - 1][];
        for (int i = 1; i < a.length; i++) {
            values[i - 1] = store.get(key(a[i]));
        }
        reply(c, s, Resp.bulkArray(values));
    }

    private void mset(Connection c, ClientState s, byte[][] a) {
        if (a.length % 2 == 0) {
            reply(c, s, Resp.error("ERR wrong number of arguments for 'mset' command"));
            return;
        }
        for (int i = 1; i < a.length; i += 2) {
            store.set(key(a[i]), a[i + 1]);
        }
        reply(c, s, Resp.shared(Resp.OK));
    }

    private void expire(Connection c, ClientState s, byte[][] a, long unitMillis, String name) {
        Long n = Resp.parseLong(a[2]);
        if (n == null) {
            reply(c, s, Resp.shared(Resp.NOT_INTEGER));
            return;
        }
        long ms = n;
        if (unitMillis == 1000 && (ms > Long.MAX_VALUE / 1000 || ms < Long.MIN_VALUE / 1000)) {
            reply(c, s, Resp.error("ERR invalid expire time in '" + name + "' command"));
            return;
        }
        ms *= unitMillis;
        long now = store.now();
        long at = ms + now;
        if (((ms ^ at) & (now ^ at)) < 0) {
            reply(c, s, Resp.error("ERR invalid expire time in '" + name + "' command"));
            return;
        }
        reply(c, s, Resp.integer(store.expireAt(key(a[1]), at) ? 1 : 0));
    }

    private void ttl(Connection c, ClientState s, byte[][] a, boolean seconds) {
        long ms = store.ttlMillis(key(a[1]));
        if (ms == -2) {
            reply(c, s, Resp.shared(Resp.MINUS_TWO));
        } else if (ms == -1) {
            reply(c, s, Resp.shared(Resp.MINUS_ONE));
        } else {
            reply(c, s, Resp.integer(seconds ? (ms + 500) / 1000 : ms));
        }
    }

    private void flushdb(Connection c, ClientState s, byte[][] a) {
        if (a.length > 2 || a.length == 2 && !upperCase(a[1]).equals("ASYNC") && !upperCase(a[1]).equals("SYNC")) {
            reply(c, s, Resp.shared(Resp.SYNTAX_ERROR));
            return;
        }
        store.clear();
        reply(c, s, Resp.shared(Resp.OK));
    }

    private void quit(Connection c, ClientState s, byte[][] a) {
        reply(c, s, Resp.shared(Resp.OK));
        closeAfterReplies(c, s);
    }

    private void select(Connection c, ClientState s, byte[][] a) {
        Long db = Resp.parseLong(a[1]);
        if (db == null || db > Integer.MAX_VALUE || db < Integer.MIN_VALUE) {
            reply(c, s, Resp.shared(Resp.NOT_INTEGER));
        } else if (db != 0) {
            reply(c, s, Resp.error("ERR DB index is out of range"));
        } else {
            reply(c, s, Resp.shared(Resp.OK));
        }
    }

    // ---- pub/sub ----

    /**
     * PUBLISH: one {@code Server.each} over the subscriber service (only connections subscribed to
     * something), each task on its subscriber's executor checking that subscriber's own channels. The
     * reply counts the channel's subscribers now, as Redis does.
     */
    private void publish(Connection c, ClientState s, byte[][] a) {
        String channel = key(a[1]);
        int receivers = subscriberCounts.getOrDefault(channel, 0);
        if (receivers > 0) {
            ByteBuf message = Resp.message(a[1], a[2]);
            // Each subscriber writes a duplicate of one buffer; the last reference goes when all are done.
            c.server().each(c, KvProtocol.SUBSCRIBER_SERVICE, target -> deliver(target, channel, message),
                    message::release);
        }
        reply(c, s, Resp.integer(receivers));
    }

    /** On the subscriber's executor. */
    private void deliver(Connection target, String channel, ByteBuf message) {
        ClientState t = target.attr(STATE).get();
        if (t == null || t.closing || !t.channels.contains(channel)) {
            return;
        }
        int size = message.readableBytes();
        if (t.backlog.addAndGet(size) > maxSubscriberBacklog) {
            // Redis's client-output-buffer-limit for pub/sub: a subscriber that does not read is dropped
            // instead of growing the server's memory without bound.
            log.info("Connection {}: subscriber fell {} bytes behind; dropping it", target.id(), t.backlog.get());
            target.protocolError("subscriber output backlog over " + maxSubscriberBacklog + " bytes");
            t.closing = true;
            target.abort();
            return;
        }
        ByteBuf copy = message.retainedDuplicate();
        flushBatch(target, t); // (with WORKER execution a task can come between a batch's commands)
        if (t.pendingSwitches > 0) {
            t.held.add(copy);
            t.backlog.addAndGet(-size);
        } else {
            target.write(copy).addListener(f -> t.backlog.addAndGet(-size));
        }
    }

    private void subscribe(Connection c, ClientState s, byte[][] a) {
        for (int i = 1; i < a.length; i++) {
            String channel = key(a[i]);
            if (s.channels.add(channel)) {
                subscriberCounts.merge(channel, 1, Integer::sum);
            }
            updateService(c, s);
            reply(c, s, Resp.subscription("subscribe", a[i], s.channels.size()));
        }
    }

    private void unsubscribe(Connection c, ClientState s, byte[][] a) {
        if (a.length == 1) {
            if (s.channels.isEmpty()) {
                reply(c, s, Resp.subscription("unsubscribe", null, 0));
            }
            for (String channel : new ArrayList<>(s.channels)) {
                unsubscribe(c, s, channel);
            }
        } else {
            for (int i = 1; i < a.length; i++) {
                unsubscribe(c, s, key(a[i]));
            }
        }
        updateService(c, s);
    }

    private void unsubscribe(Connection c, ClientState s, String channel) {
        if (s.channels.remove(channel)) {
            subscriberCounts.computeIfPresent(channel, (k, n) -> n == 1 ? null : n - 1);
        }
        reply(c, s, Resp.subscription("unsubscribe", channel.getBytes(StandardCharsets.ISO_8859_1),
                s.channels.size()));
    }

    // ---- what clients ask at start-up ----

    private void command(Connection c, ClientState s, byte[][] a) {
        if (a.length > 1 && upperCase(a[1]).equals("COUNT")) {
            reply(c, s, Resp.integer(table.size()));
        } else {
            // COMMAND, COMMAND DOCS (redis-cli's hints): no documentation to offer
            reply(c, s, Resp.shared(Resp.EMPTY_ARRAY));
        }
    }

    private void config(Connection c, ClientState s, byte[][] a) {
        if (!upperCase(a[1]).equals("GET")) {
            reply(c, s, Resp.error("ERR unknown subcommand '" + key(a[1]) + "'. Try CONFIG HELP."));
            return;
        }
        if (a.length < 3) {
            reply(c, s, Resp.error("ERR wrong number of arguments for 'config|get' command"));
            return;
        }
        // redis-benchmark reads these two; an in-memory server neither saves nor appends.
        List<String> pairs = new ArrayList<>();
        for (int i = 2; i < a.length; i++) {
            String name = lowerCase(a[i]);
            if (name.equals("save")) {
                pairs.add("save");
                pairs.add("");
            } else if (name.equals("appendonly")) {
                pairs.add("appendonly");
                pairs.add("no");
            }
        }
        reply(c, s, Resp.textArray(pairs.toArray(new String[0])));
    }

    private void client(Connection c, ClientState s, byte[][] a) {
        switch (upperCase(a[1])) {
            case "SETNAME" -> {
                if (a.length != 3) {
                    reply(c, s, Resp.error("ERR wrong number of arguments for 'client|setname' command"));
                } else {
                    s.name = a[2].length == 0 ? null : a[2];
                    reply(c, s, Resp.shared(Resp.OK));
                }
            }
            case "GETNAME" -> reply(c, s, Resp.bulk(s.name));
            case "ID" -> reply(c, s, Resp.integer(c.id()));
            case "SETINFO" -> reply(c, s, Resp.shared(Resp.OK));
            default -> reply(c, s, Resp.error("ERR unknown subcommand '" + key(a[1]) + "'. Try CLIENT HELP."));
        }
    }

    private void info(Connection c, ClientState s, byte[][] a) {
        String text = "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\nserver_name:server-framework-kv\r\n"
                + "\r\n# Keyspace\r\ndb0:keys=" + store.size() + ",expires=0,avg_ttl=0\r\n";
        reply(c, s, Resp.bulk(text.getBytes(StandardCharsets.US_ASCII)));
    }

    // ---- helpers ----

    /** Bytes as a key: ISO-8859-1 maps each byte to one char, so any bytes round-trip. */
    static String key(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** ASCII lower case of a command word; other bytes unchanged. */
    static String lowerCase(byte[] word) {
        byte[] lower = null;
        for (int i = 0; i < word.length; i++) {
            byte b = word[i];
            if (b >= 'A' && b <= 'Z') {
                if (lower == null) {
                    lower = word.clone();
                }
                lower[i] = (byte) (b + 32);
            }
        }
        return key(lower == null ? word : lower);
    }

    private static String upperCase(byte[] word) {
        return lowerCase(word).toUpperCase(java.util.Locale.ROOT);
    }
}
