package dev.serverframework.echo;


import java.util.List;

/**
 * A room's commands, the lines that start with {@code /}: {@code /nick NAME}, {@code /who}, {@code /quit}.
 * Every method runs on the executor of the member that typed the command.
 */
final class ChatCommands {
    private final ChatRoom room;
    private final Nicknames nicknames;

    ChatCommands(ChatRoom room, Nicknames nicknames) {
        this.room = room;
        this.nicknames = nicknames;
    }

    /** Runs the command {@code line} for a member present. On the member's executor. */
    void run(ChatMember me, String line) {
        int space = line.indexOf(' ');
        String command = space < 0 ? line : line.substring(0, space);
        String argument = space < 0 ? "" : line.substring(space + 1).trim();
        switch (command) {
            case "/nick" -> nick(me, argument);
            case "/who" -> who(me);
            case "/quit" -> {
                room.send(me, "* bye");
                room.leave(me);
            }
            default -> room.send(me, "error: unknown command " + command + "; try /nick NAME, /who, /quit");
        }
    }

    private void nick(ChatMember me, String name) {
        if (!Nicknames.isWellFormed(name)) {
            room.send(me, "error: a nickname is 1 to 32 letters, digits, '_', '-' or '.'");
            return;
        }
        if (name.startsWith(Nicknames.GUEST)) {
            room.send(me, "error: nicknames starting with " + Nicknames.GUEST + " are reserved");
            return;
        }
        // Only this executor renames the member, so its name read here is the one the rename replaces.
        String old = me.name;
        switch (nicknames.rename(me, name)) {
            case SAME -> room.send(me, "* you are already " + name);
            case TAKEN -> room.send(me, "error: nickname " + name + " is taken");
            case DONE -> {
                room.send(me, "* you are now " + name);
                room.broadcast(me, "* " + old + " is now known as " + name, false);
            }
            case NOT_PRESENT -> {
                // taken over by a rejoin meanwhile: its successor speaks for it now
            }
        }
    }

    /**
     * Answers from this instance's nickname table: members of other instances of a relayed room are not
     * listed (they have no seat here; asking them would take a round of replies over pub/sub). At once: a
     * reply gathered with {@code Server.each} would come after the answers to commands sent behind
     * {@code /who} (and never after a {@code /quit}).
     */
    private void who(ChatMember me) {
        List<String> list = nicknames.sorted();
        room.send(me, "* " + list.size() + " online: " + String.join(", ", list));
    }
}
