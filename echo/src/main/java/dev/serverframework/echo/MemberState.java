package dev.serverframework.echo;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where one {@link ChatMember} stands: present, leaving, away, left or moved. The changes that free
 * or pass on the member's name ({@link #leaveForGood}, {@link #moveOut}) are made under the
 * {@link Nicknames} lock, so that a name is never freed and passed on at once; the others are made on
 * the member's executor. Any thread may read it.
 */
final class MemberState {
    /** Seated, gets lines and may speak. */
    private static final int PRESENT = 0;
    /** On its way out (quit, dropped, idle, stopping): gets no more lines, its own are ignored. */
    private static final int LEAVING = 1;
    /** Its connection is gone but it may come back ({@link ChatRoom#rejoin}): keeps its name, gets no lines. */
    private static final int AWAY = 2;
    /** Gone: its name is free and its leave announced. */
    private static final int LEFT = 3;
    /** Came back on another connection: a new {@link ChatMember} took its place. */
    private static final int MOVED = 4;

    private final AtomicInteger state = new AtomicInteger(PRESENT);
    private final AtomicBoolean leaveAnnounced = new AtomicBoolean();

    boolean isPresent() {
        return state.get() == PRESENT;
    }

    boolean isAway() {
        return state.get() == AWAY;
    }

    boolean hasLeft() {
        return state.get() == LEFT;
    }

    /** Present to leaving. Returns whether the member was present. */
    boolean startLeaving() {
        return state.compareAndSet(PRESENT, LEAVING);
    }

    /** Present to away. Returns whether the member was present. */
    boolean goAway() {
        return state.compareAndSet(PRESENT, AWAY);
    }

    /**
     * To left, unless the member has left or moved already. Returns whether it left now. Under the
     * {@link Nicknames} lock.
     */
    boolean leaveForGood() {
        int s = state.get();
        if (s == LEFT || s == MOVED) {
            return false;
        }
        state.set(LEFT);
        return true;
    }

    /**
     * A present or away member moves to another connection. Returns whether it was present (its transport
     * is still open), or null when it can no longer move (leaving, left or moved). Under the
     * {@link Nicknames} lock.
     */
    Boolean moveOut() {
        int s = state.get();
        if (s != AWAY && s != PRESENT) {
            return null;
        }
        state.set(MOVED);
        return s == PRESENT;
    }

    /** A drop announces the leave itself: the later {@link ChatRoom#left} must not. */
    void markLeaveAnnounced() {
        leaveAnnounced.set(true);
    }

    /** Returns whether the leave is still to be announced, and if so, that it now is. */
    boolean announceLeave() {
        return leaveAnnounced.compareAndSet(false, true);
    }
}
