package dev.serverframework.examples.kv;

import dev.serverframework.core.PubSubMessage;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * The RESP form of the published message being delivered on this thread, encoded once and shared by the
 * subscribers it reaches here. A message's deliveries to the subscribers of one executor run one after the
 * other in one batch, so remembering the last message per thread is enough: its first subscriber encodes it,
 * the others write a duplicate of the same bytes, as the broadcast that PUBLISH used to be did. The buffer is
 * released when the next message replaces it, or when the thread ends.
 *
 * <p>Per thread, so without locks: each method runs on the executor of the subscriber being delivered to.
 */
final class EncodedMessages {
    private static final FastThreadLocal<EncodedMessages> CURRENT = new FastThreadLocal<>() {
        @Override
        protected EncodedMessages initialValue() {
            return new EncodedMessages();
        }

        @Override
        protected void onRemoval(EncodedMessages cache) {
            cache.clear();
        }
    };

    private PubSubMessage message;
    private ByteBuf encoded;

    private EncodedMessages() {
    }

    /** {@code message} as a subscriber of {@code channel} gets it: a buffer of its own to write (and release). */
    static ByteBuf of(byte[] channel, PubSubMessage message) {
        EncodedMessages cache = CURRENT.get();
        if (cache.message != message) {
            cache.clear();
            cache.encoded = Resp.message(channel, message.bytes());
            cache.message = message;
        }
        return cache.encoded.retainedDuplicate();
    }

    private void clear() {
        if (encoded != null) {
            encoded.release();
            encoded = null;
            message = null;
        }
    }
}
