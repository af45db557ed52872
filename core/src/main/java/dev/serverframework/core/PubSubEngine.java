package dev.serverframework.core;

/**
 * What carries published messages between processes, behind a {@link PubSub}: the in-process engine (none;
 * {@link #inProcess()}) or the Redis engine ({@code dev.serverframework.core.redis.RedisEngine}). A
 * {@link PubSub} delivers to the subscribers of its own process itself; the engine only sends each message
 * to the other processes and hands it back what they published.
 *
 * <p>An engine never blocks its caller: {@link #publish} runs on workers and I/O loops. When it cannot send
 * (its link is down, its bounded buffer is full) it drops the message and says so through
 * {@link Receiver#dropped}.
 */
public interface PubSubEngine {

    /** Where an engine stands, for logs, metrics and health checks. */
    enum State {
        /** The in-process engine: there are no other processes to reach. */
        LOCAL,
        /** Started, not yet connected; messages for other processes are dropped. */
        CONNECTING,
        /** Connected: messages reach the other processes. */
        CONNECTED,
        /** The link was lost; the engine reconnects, and drops messages for other processes meanwhile. */
        DISCONNECTED,
        /** Closed for good. */
        CLOSED
    }

    /**
     * Starts the engine: called once, by the {@link PubSub}, before any other method, when the first
     * server using it starts. Returns promptly: a link that is not up yet is made in the background.
     *
     * @param receiver where messages of other processes go, and drops are reported
     */
    void start(Receiver receiver);

    /**
     * This process has a first subscriber to {@code channel}: receive its messages from now on, and again
     * after every reconnection. Never blocks. Calls for one channel come in order (under the
     * {@link PubSub}'s lock).
     */
    void subscribe(String channel);

    /** This process's last subscriber to {@code channel} is gone. Never blocks. */
    void unsubscribe(String channel);

    /**
     * Sends {@code message} to the other processes' subscribers of {@code channel}; never blocks, never
     * buffers without bound: what cannot be sent is reported to {@link Receiver#dropped}. Any thread; messages
     * of one thread leave in the order of the calls.
     *
     * @param message the bytes, which the caller no longer changes
     */
    void publish(String channel, byte[] message);

    /** Where the engine stands now. Any thread. */
    State state();

    /** Closes the engine's links; called once, when the last server using it has stopped. May block briefly. */
    void close();

    /** The engine that reaches no other process: publish/subscribe within one process. */
    static PubSubEngine inProcess() {
        return InProcessEngine.INSTANCE;
    }

    /** The {@link PubSub}'s side of an engine. Thread-safe. */
    interface Receiver {
        /**
         * A message another process published. Called on the engine's thread, in the order the engine
         * received them; returns promptly (deliveries are handed to the subscribers' executors).
         */
        void received(String channel, byte[] message);

        /** {@code count} messages of this process did not reach the other processes. Any thread. */
        void dropped(long count);
    }
}
