package dev.serverframework.core;

/** {@link PubSubEngine#inProcess()}: there is no other process, so there is nothing to send or receive. */
final class InProcessEngine implements PubSubEngine {
    static final InProcessEngine INSTANCE = new InProcessEngine();

    private InProcessEngine() {
    }

    @Override
    public void start(Receiver receiver) {
    }

    @Override
    public void subscribe(String channel) {
    }

    @Override
    public void unsubscribe(String channel) {
    }

    @Override
    public void publish(String channel, byte[] message) {
    }

    @Override
    public State state() {
        return State.LOCAL;
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "in-process";
    }
}
