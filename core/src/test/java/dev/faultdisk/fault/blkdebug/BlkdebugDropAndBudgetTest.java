package dev.faultdisk.fault.blkdebug;

import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.READ_AIO;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.WRITE_AIO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Suspended requests of a closed connection are dropped; rules added at run time have a budget. */
class BlkdebugDropAndBudgetTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static CompletableFuture<Boolean> fireOn(BlkdebugEngine e, String tag, long connection) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return e.fire(WRITE_AIO, Operation.WRITE, 0, 512, connection);
                    } catch (InterruptedException ex) {
                        throw new IllegalStateException(ex);
                    }
                },
                r -> Thread.ofVirtual().name("request-" + tag).start(r));
    }

    @Test
    void onlyTheClosedConnectionsSuspensionsAreDroppedAndListenersHearIt() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine();
        List<SuspendedRequest> dropped = new ArrayList<>();
        List<SuspendedRequest> resumed = new ArrayList<>();
        e.addListener(new BlkdebugListener() {
            @Override
            public synchronized void dropped(SuspendedRequest request) {
                dropped.add(request);
            }

            @Override
            public synchronized void resumed(SuspendedRequest request) {
                resumed.add(request);
            }
        });
        e.setBreakpoint(WRITE_AIO, "gone");
        CompletableFuture<Boolean> ofClosed = fireOn(e, "gone", 7);
        assertTrue(e.awaitSuspended("gone", TIMEOUT));
        e.setBreakpoint(WRITE_AIO, "kept");
        CompletableFuture<Boolean> ofOpen = fireOn(e, "kept", 8);
        assertTrue(e.awaitSuspended("kept", TIMEOUT));

        assertEquals(0, e.dropConnection(99), "a connection with nothing suspended");
        assertEquals(0, e.dropConnection(BlkdebugEngine.NO_CONNECTION), "requests of no connection are never dropped");
        assertEquals(1, e.dropConnection(7));
        assertFalse(ofClosed.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the dropped request must not go on");
        assertFalse(e.isSuspended("gone"));
        assertFalse(e.resume("gone"), "resume finds nothing");
        assertEquals(
                List.of("gone"), dropped.stream().map(SuspendedRequest::tag).toList());
        assertEquals(List.of(), resumed);

        assertEquals(
                List.of("kept"),
                e.suspended().stream().map(SuspendedRequest::tag).toList());
        assertFalse(ofOpen.isDone(), "another connection's request stays held");
        assertTrue(e.resume("kept"));
        assertTrue(ofOpen.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "a resumed request goes on");
        assertFalse(e.mayBlock());
    }

    @Test
    void addingPastTheRulesBudgetIsRefusedAndChangesNothing() throws Exception {
        BlkdebugEngine e = new BlkdebugEngine();
        e.maxRules(3);
        e.addRules(List.of(new SetStateRule(READ_AIO, 1, 2), InjectErrorRule.on(WRITE_AIO)));
        e.fire(READ_AIO, Operation.READ, 0, 512); // state 2
        List<Rule> before = e.rules();
        IllegalArgumentException refused = assertThrows(
                IllegalArgumentException.class,
                () -> e.addRules(List.of(InjectErrorRule.on(READ_AIO), InjectErrorRule.on(READ_AIO))));
        assertEquals("2 blkdebug rules and 2 more would pass the limit of 3 (max-rules)", refused.getMessage());
        assertEquals(before, e.rules());
        assertEquals(2, e.state(), "a refused call does not reset the state");
        e.addRules(List.of(InjectErrorRule.on(READ_AIO))); // up to the limit is fine
        assertEquals(3, e.rules().size());
        e.clearRules();
        e.addRules(List.of(InjectErrorRule.on(READ_AIO), InjectErrorRule.on(READ_AIO)));
        assertEquals(2, e.rules().size(), "cleared rules free the budget");
        assertThrows(IllegalArgumentException.class, () -> e.maxRules(0));

        e.setBreakpoint(READ_AIO, "a");
        e.setBreakpoint(READ_AIO, "b");
        e.setBreakpoint(WRITE_AIO, "c");
        IllegalArgumentException tooMany =
                assertThrows(IllegalArgumentException.class, () -> e.setBreakpoint(WRITE_AIO, "d"));
        assertEquals(
                "3 blkdebug breakpoints not yet fired and one more would pass the limit of 3 (max-rules)",
                tooMany.getMessage());
        assertEquals(
                List.of("a", "b", "c"),
                e.breakpoints().stream().map(Breakpoint::tag).toList());
        assertTrue(e.removeBreakpoint("a"));
        e.setBreakpoint(WRITE_AIO, "d"); // a removed (or fired) breakpoint frees its place
    }
}
