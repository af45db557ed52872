package dev.serverframework.examples.bench;

import dev.serverframework.examples.OptionChecksTest;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;

/** {@code bench stop}'s map from {@link StopProbe.Builder} settings to its options: see {@link OptionChecksTest}. */
class StopProbeOptionChecksTest {
    @Test
    void eachKeyIsWhatTheBuilderSays() {
        InetSocketAddress target = new InetSocketAddress("127.0.0.1", 1);
        OptionChecksTest.assertEachKeyIsWhatItsBuilderSays(StopProbeCommand.OPTIONS, Map.of(
                "connections", () -> StopProbe.builder(target).connections(0),
                "stopAfter", () -> StopProbe.builder(target).stopAfter(Duration.ofSeconds(-1)),
                "deadline", () -> StopProbe.builder(target).deadline(Duration.ZERO),
                "path", () -> StopProbe.builder(target).path("x"),
                "expectStatus", () -> StopProbe.builder(target).expectStatus(100)));
    }
}
