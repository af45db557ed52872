package dev.serverframework.examples.kv;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.serverframework.examples.kv.CommandTable.key;
import static dev.serverframework.examples.kv.CommandTable.lowerCase;
import static dev.serverframework.examples.kv.CommandTable.upperCase;

/**
 * The commands about the connection rather than the data: PING, ECHO, QUIT, SELECT, CLIENT, and minimal
 * answers to what {@code redis-cli} and {@code redis-benchmark} ask a server when they start (COMMAND,
 * CONFIG GET, INFO). Stateless beyond the store and table it reports on; any executor.
 */
final class ConnectionCommands {
    private final KvStore store;
    private final CommandTable table;

    private ConnectionCommands(KvStore store, CommandTable table) {
        this.store = store;
        this.table = table;
    }

    /** Adds these commands to {@code table}. */
    static void register(CommandTable table, KvStore store) {
        ConnectionCommands c = new ConnectionCommands(store, table);
        table.add("ping", -1, true, c::ping);
        table.add("echo", 2, false, (client, a) -> client.reply(Resp.bulk(a[1])));
        table.add("quit", -1, true, c::quit);
        table.add("select", 2, false, c::select);
        table.add("command", -1, false, c::command);
        table.add("config", -2, false, c::config);
        table.add("client", -2, false, c::client);
        table.add("info", -1, false, c::info);
    }

    /** PING: PONG, or the argument; in subscribe mode the pub/sub shape {@code [pong, argument]}. */
    private void ping(KvClient client, byte[][] a) {
        if (a.length > 2) {
            client.reply(Resp.error("ERR wrong number of arguments for 'ping' command"));
        } else if (client.isSubscribed()) {
            client.reply(Resp.bulkArray(new byte[][] {"pong".getBytes(StandardCharsets.US_ASCII),
                    a.length == 2 ? a[1] : new byte[0]}));
        } else if (a.length == 2) {
            client.reply(Resp.bulk(a[1]));
        } else {
            client.reply(Resp.shared(Resp.PONG));
        }
    }

    private void quit(KvClient client, byte[][] a) {
        client.reply(Resp.shared(Resp.OK));
        client.closeAfterReplies();
    }

    /** SELECT: only database 0 exists. */
    private void select(KvClient client, byte[][] a) {
        Long db = Resp.parseLong(a[1]);
        if (db == null || db > Integer.MAX_VALUE || db < Integer.MIN_VALUE) {
            client.reply(Resp.shared(Resp.NOT_INTEGER));
        } else if (db != 0) {
            client.reply(Resp.error("ERR DB index is out of range"));
        } else {
            client.reply(Resp.shared(Resp.OK));
        }
    }

    private void command(KvClient client, byte[][] a) {
        if (a.length > 1 && upperCase(a[1]).equals("COUNT")) {
            client.reply(Resp.integer(table.size()));
        } else {
            // COMMAND, COMMAND DOCS (redis-cli's hints): no documentation to offer
            client.reply(Resp.shared(Resp.EMPTY_ARRAY));
        }
    }

    private void config(KvClient client, byte[][] a) {
        if (!upperCase(a[1]).equals("GET")) {
            client.reply(Resp.error("ERR unknown subcommand '" + key(a[1]) + "'. Try CONFIG HELP."));
            return;
        }
        if (a.length < 3) {
            client.reply(Resp.error("ERR wrong number of arguments for 'config|get' command"));
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
        client.reply(Resp.textArray(pairs.toArray(new String[0])));
    }

    private void client(KvClient client, byte[][] a) {
        switch (upperCase(a[1])) {
            case "SETNAME" -> {
                if (a.length != 3) {
                    client.reply(Resp.error("ERR wrong number of arguments for 'client|setname' command"));
                } else {
                    client.name = a[2].length == 0 ? null : a[2];
                    client.reply(Resp.shared(Resp.OK));
                }
            }
            case "GETNAME" -> client.reply(Resp.bulk(client.name));
            case "ID" -> client.reply(Resp.integer(client.connection().id()));
            case "SETINFO" -> client.reply(Resp.shared(Resp.OK));
            default -> client.reply(Resp.error("ERR unknown subcommand '" + key(a[1]) + "'. Try CLIENT HELP."));
        }
    }

    private void info(KvClient client, byte[][] a) {
        String text = "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\nserver_name:server-framework-kv\r\n"
                + "\r\n# Keyspace\r\ndb0:keys=" + store.size() + ",expires=0,avg_ttl=0\r\n";
        client.reply(Resp.bulk(text.getBytes(StandardCharsets.US_ASCII)));
    }
}
