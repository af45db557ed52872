package dev.serverframework.core.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Proves that the leak check every test class relies on does see a leaked buffer. */
class LeakDetectionSelfTest {

    @Test
    void aLeakedBufferIsReported() {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "surefire must run tests with -Dio.netty.leakDetection.level=paranoid");
        LeakDetectionExtension.collectLeaks();
        LeakDetectionExtension.drainLeaks();
        leakOne();
        List<String> seen = new ArrayList<>();
        Await.until("the leak detector to report the leaked buffer", Duration.ofSeconds(20), () -> {
            LeakDetectionExtension.collectLeaks();
            seen.addAll(LeakDetectionExtension.drainLeaks());
            return !seen.isEmpty();
        });
        assertTrue(seen.get(0).contains("ByteBuf"), seen.get(0));
    }

    private static void leakOne() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        leaked.writeLong(42);
        // dropped without release()
    }
}
