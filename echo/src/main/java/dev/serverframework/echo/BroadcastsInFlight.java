package dev.serverframework.echo;

/**
 * One sender's broadcasts not yet handed to every receiver: at {@value ChatRoom#MAX_BROADCASTS_IN_FLIGHT}
 * the sender is no longer read, until they are. Confined to the sender's executor, where both the
 * broadcasts and their {@code Server.each} finishes run.
 */
final class BroadcastsInFlight {
    private final ChatSink sink;
    private int count;

    BroadcastsInFlight(ChatSink sink) {
        this.sink = sink;
    }

    /** A broadcast starts. */
    void started() {
        if (++count == ChatRoom.MAX_BROADCASTS_IN_FLIGHT) {
            sink.pauseInput();
        }
    }

    /** A broadcast has been handed to every receiver. */
    void finished() {
        if (count-- == ChatRoom.MAX_BROADCASTS_IN_FLIGHT) {
            sink.resumeInput();
        }
    }
}
