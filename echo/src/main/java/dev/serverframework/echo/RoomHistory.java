package dev.serverframework.echo;


import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A room's line numbering and its last lines, kept for members that come back. Not thread-safe: the room
 * uses it under the lock that also hands each numbered line to {@code Server.each}, so that numbers and
 * deliveries follow one order.
 */
final class RoomHistory {
    private final int size;
    private final ArrayDeque<Line> lines = new ArrayDeque<>();
    private long lastLineId;

    /** @param size how many of the last lines to keep, 0 for none */
    RoomHistory(int size) {
        this.size = size;
    }

    /** How many of the last lines are kept. Any thread. */
    int size() {
        return size;
    }

    /** The id of the last line numbered, 0 before the first. */
    long lastLineId() {
        return lastLineId;
    }

    /** Numbers a new line and keeps it, letting the oldest go when the history is full. */
    Line add(long originId, boolean echo, String text) {
        Line line = new Line(++lastLineId, originId, echo, text);
        if (size > 0) {
            if (lines.size() == size) {
                lines.removeFirst();
            }
            lines.addLast(line);
        }
        return line;
    }

    /**
     * What a member that comes back missed: the kept lines after {@code lastSeen} that are for it, from
     * the position its replay starts at.
     */
    Replay replay(ChatMember me, long lastSeen) {
        // A position from the client is only a hint: one past the last line (a forged header, say) is
        // taken as the last line.
        long from = Math.min(Math.max(lastSeen, 0), lastLineId);
        Line oldest = lines.peekFirst();
        boolean gap = from < lastLineId && (oldest == null || oldest.id > from + 1);
        List<Line> missed = new ArrayList<>();
        for (Line line : lines) {
            if (line.id > from && line.isFor(me)) {
                missed.add(line);
            }
        }
        return new Replay(from, gap, missed);
    }

    /**
     * A replay: the position the member has really reached, whether the history no longer reaches back
     * to it, and the lines after it, in order.
     */
    record Replay(long from, boolean gap, List<Line> missed) {
    }

    /** One broadcast line: its number in the room's order, who said it, whether it goes back to them. */
    record Line(long id, long originId, boolean echo, String text) {
        /** Whether a member gets this line: all but the origin, and the origin too when echoed. */
        boolean isFor(ChatMember m) {
            return originId != m.id || echo && m.sink.echoesOwnLines();
        }
    }
}
