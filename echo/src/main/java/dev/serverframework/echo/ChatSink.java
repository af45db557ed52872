package dev.serverframework.echo;

/**
 * How a transport writes a member's lines. Every method is called on the member's connection's
 * executor.
 */
public interface ChatSink {
    /**
     * Writes one line to the member, in the transport's framing.
     *
     * @param line     the text, without a line terminator
     * @param position the id of the last room line this member has been handed (this line's own id for
     *                 a room line): a transport that can resume sends it to its client (an SSE event
     *                 id), which hands it back to {@link ChatRoom#rejoin} as {@code lastSeen}
     * @return false when the member reads too slowly for the transport's limit and the transport has
     *         begun to drop it (it tells its client and closes); the room then announces it left. A
     *         transport already closing discards the line and returns true.
     */
    boolean send(String line, long position);

    /**
     * The member leaves: close once the lines sent before have gone out. Called on the member's
     * executor, or on the new connection's when a {@link ChatRoom#rejoin} takes the member over.
     */
    void close();

    /** The member has too many broadcasts in flight: take no more of its input. Default nothing. */
    default void pauseInput() {
    }

    /** The member's broadcasts caught up: take its input again. Default nothing. */
    default void resumeInput() {
    }

    /**
     * Whether the member gets its own lines back, in the room's order: a web page shows them so; a
     * terminal already shows what its user typed. Default false.
     */
    default boolean echoesOwnLines() {
        return false;
    }
}
