package dev.serverframework.core.internal;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AcceptGateTest {

    /** At the limit of refusals being answered, accepting pauses (clients wait in the backlog) until half are done. */
    @Test
    void refusalsBeingAnsweredPauseAcceptingAtTheirLimit() {
        EmbeddedChannel listener = new EmbeddedChannel();
        AcceptGate gate = new AcceptGate(List.of(listener), 4);
        for (int i = 0; i < 3; i++) {
            gate.refusalStarted();
        }
        listener.runPendingTasks();
        assertTrue(listener.config().isAutoRead());
        gate.refusalStarted();
        listener.runPendingTasks();
        assertFalse(listener.config().isAutoRead(), "the fourth refusal at once pauses accepting");
        assertTrue(gate.isPaused());
        gate.refusalEnded();
        listener.runPendingTasks();
        assertFalse(listener.config().isAutoRead(), "still paused with three being answered");
        gate.refusalEnded();
        listener.runPendingTasks();
        assertTrue(listener.config().isAutoRead(), "accepting again once half are done");
        assertFalse(gate.isPaused());
        assertTrue(OpenFileLimit.maxRefusals(OpenFileLimit.defaultMaxConnections()) >= 4);
        listener.finishAndReleaseAll();
    }
}
