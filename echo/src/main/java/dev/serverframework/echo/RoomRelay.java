package dev.serverframework.echo;

import dev.serverframework.core.PubSub;
import dev.serverframework.core.PubSubMessage;
import dev.serverframework.core.Server;
import dev.serverframework.core.Subscription;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Consumer;

/**
 * Relays a room's lines through publish/subscribe, so that the rooms of several instances on one channel
 * are one room: every line the room broadcasts is published (UTF-8 text), and every line another room
 * published is handed to {@code relayed}, which broadcasts it to this room's members.
 *
 * <p>The relay subscribes through the {@link PubSub} of the first server a member joins on, and publishes
 * through it; servers whose members share a room should share a {@code PubSub}. It receives on one worker of
 * a running server of the room ({@link RunningServerWorker}), so relayed lines keep the order they arrive in,
 * and keep coming when one of the room's servers stops while another runs. When none runs, the subscription
 * ends, and the next member to join renews it.
 *
 * <p><b>No line twice.</b> The pub/sub hands a message published in this process back to this process's
 * subscribers, this room among them; the room broadcast its own lines already. Those are recognised by
 * identity (the published array is the one delivered) and skipped; a line of another room in this process
 * (another {@code ChatRoom} on the same {@code PubSub}) and every line of another process are relayed.
 *
 * <p>Thread-safe.
 */
final class RoomRelay {
    private final String channel;
    private final Consumer<String> relayed;
    /** Lines this room published and has not seen come back: identity keys, forgotten if they never do. */
    private final Map<byte[], Boolean> own = Collections.synchronizedMap(new WeakHashMap<>());
    /** Guarded by this. */
    private Subscription subscription;
    private volatile PubSub pubSub;

    private final RunningServerWorker worker;

    /**
     * @param channel the pub/sub channel the rooms share
     * @param servers the servers the room's members joined on (a live view): the relay receives on a worker
     *                of one of them that runs
     * @param relayed broadcasts a line of another room to this room's members; called on that worker, one
     *                line at a time, in the order they arrive
     */
    RoomRelay(String channel, Collection<Server> servers, Consumer<String> relayed) {
        this.channel = channel;
        this.relayed = relayed;
        this.worker = new RunningServerWorker(servers);
    }

    /**
     * A member joined on {@code server}: subscribes through its pub/sub, unless the relay is subscribed
     * already. On the member's executor (any thread would do).
     */
    synchronized void joinedOn(Server server) {
        // Also when the server's pub/sub is another: the one subscribed to belonged to servers now stopped.
        if (subscription == null || !subscription.isActive() || pubSub != server.pubSub()) {
            if (subscription != null) {
                subscription.cancel();
            }
            pubSub = server.pubSub();
            subscription = pubSub.subscribe(channel, worker, this::received);
        }
    }

    /**
     * Publishes a line the room has just broadcast to its own members. The caller holds the room's order
     * lock, so lines leave in the room's order. Never blocks.
     */
    void publish(String text) {
        PubSub p = pubSub;
        if (p != null) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            own.put(bytes, Boolean.TRUE);
            p.publish(channel, bytes);
        }
    }

    /** On a worker of one of the room's running servers. */
    private void received(PubSubMessage message) {
        if (message.local() && own.remove(message.bytes()) != null) {
            return; // this room's own line, which it broadcast itself
        }
        relayed.accept(message.text());
    }
}
