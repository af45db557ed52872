package dev.serverframework.core.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Fails the test class during (or after) which Netty's leak detector reported a leaked buffer.
 *
 * <p>Registered for every test through JUnit's extension auto-detection (see the services file and the
 * surefire configuration). It installs a leak-detector factory whose detectors tell {@link #LEAKS}; that
 * must happen before Netty creates its buffer leak detector, which is why it runs in a static initializer
 * that JUnit triggers before the first test class.
 */
public final class LeakDetectionExtension implements AfterAllCallback {
    private static final List<String> LEAKS = new ArrayList<>();

    static {
        ResourceLeakDetectorFactory original = ResourceLeakDetectorFactory.instance();
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                        long maxActive) {
                ResourceLeakDetector<T> detector = original.newResourceLeakDetector(resource, samplingInterval, maxActive);
                detector.setLeakListener((type, records) -> recordLeak(type + ": " + records));
                return detector;
            }
        });
    }

    private static synchronized void recordLeak(String leak) {
        LEAKS.add(leak);
    }

    /** Leaks reported so far and not yet blamed on a test class; clears them. */
    public static synchronized List<String> drainLeaks() {
        List<String> out = new ArrayList<>(LEAKS);
        LEAKS.clear();
        return out;
    }

    /**
     * Lets the garbage collector find unreleased buffers and the detector report them: it reports when a
     * new buffer is tracked, so allocate a few after each collection.
     */
    public static void collectLeaks() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 8; j++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
                a.release();
                b.release();
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.DISABLED) {
            return;
        }
        collectLeaks();
        List<String> leaks = drainLeaks();
        if (!leaks.isEmpty()) {
            String first = leaks.get(0);
            throw new AssertionError(leaks.size() + " buffer leak(s) reported during or before "
                    + context.getDisplayName() + "; first:\n" + first.substring(0, Math.min(first.length(), 4000)));
        }
    }
}
