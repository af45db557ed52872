package dev.serverframework.core;

/** A subscriber's hold on a channel ({@link PubSub#subscribe}). Thread-safe. */
public interface Subscription {
    /** The channel subscribed to. */
    String channel();

    /**
     * Ends the subscription: no delivery starts after this returns (one already running on the subscriber's
     * executor finishes). Cancelling twice does nothing. Any thread.
     */
    void cancel();

    /** Whether messages are still delivered: not cancelled, and its connection (if any) still open. */
    boolean isActive();
}
