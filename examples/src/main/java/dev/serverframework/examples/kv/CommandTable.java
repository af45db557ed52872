package dev.serverframework.examples.kv;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The commands by name, each with its arity and whether a subscribed client may run it, as Redis declares
 * them; {@link #run} checks a request against that and runs it, or answers with Redis's error. The commands
 * themselves live with what they work on: {@link KeyCommands} (the key space), {@link PubSubCommands}
 * (channels) and {@link ConnectionCommands} (the connection, and what clients ask at start-up).
 *
 * <p>Filled once when the protocol is built, then only read: safe for every connection's executor at once.
 */
final class CommandTable {

    /** A command's code: runs on the client's executor. */
    @FunctionalInterface
    interface Handler {
        /** Runs the command with its checked arguments ({@code args[0]} is its name) and replies. */
        void run(KvClient client, byte[][] args);
    }

    /**
     * A command as Redis declares it: lower-case name, arity (n = exactly n words with the name, -n = at
     * least n), and whether a subscribed RESP2 client may run it.
     */
    private record Command(String name, int arity, boolean inSubscribeMode, Handler handler) {
    }

    private final Map<String, Command> commands = new HashMap<>();

    /** Adds a command; {@code arity} as Redis counts it (see {@link Command}). */
    void add(String name, int arity, boolean inSubscribeMode, Handler handler) {
        commands.put(name, new Command(name, arity, inSubscribeMode, handler));
    }

    /** How many commands there are (COMMAND COUNT). */
    int size() {
        return commands.size();
    }

    /** Runs one request of {@code client}, or answers why it cannot run. */
    void run(KvClient client, byte[][] args) {
        Command cmd = commands.get(lowerCase(args[0]));
        if (cmd == null) {
            client.reply(Resp.error(unknownCommand(args)));
            return;
        }
        if (cmd.arity > 0 ? args.length != cmd.arity : args.length < -cmd.arity) {
            client.reply(Resp.error("ERR wrong number of arguments for '" + cmd.name + "' command"));
            return;
        }
        if (!cmd.inSubscribeMode && client.isSubscribed()) {
            client.reply(Resp.error("ERR Can't execute '" + cmd.name + "': only (P|S)SUBSCRIBE / "
                    + "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"));
            return;
        }
        cmd.handler.run(client, args);
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

    /** Bytes as a key or channel name: ISO-8859-1 maps each byte to one char, so any bytes round-trip. */
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

    /** ASCII upper case of a command word or option, for comparing with {@code "NX"} and the like. */
    static String upperCase(byte[] word) {
        return lowerCase(word).toUpperCase(Locale.ROOT);
    }
}
