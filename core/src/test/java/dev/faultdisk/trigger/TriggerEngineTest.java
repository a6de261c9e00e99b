package dev.faultdisk.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.fault.FaultRuleException;
import dev.faultdisk.wire.BlockOp;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TriggerEngineTest {
    private static final long SIZE = 1 << 30;

    /** Records the commands it runs; knows "power-fail" and "write-cache-arm-flush-error" only. */
    static final class RecordingRunner implements CommandRunner {
        final List<String> ran = Collections.synchronizedList(new ArrayList<>());
        volatile CountDownLatch block;

        @Override
        public void check(String command, Map<String, Object> arguments) {
            if (!command.equals("power-fail") && !command.equals("write-cache-arm-flush-error")) {
                throw new IllegalArgumentException("The command " + command + " has not been found");
            }
        }

        @Override
        public Object run(String command, Map<String, Object> arguments) throws Exception {
            ran.add(command + " " + arguments.get("device"));
            CountDownLatch b = block;
            if (b != null) {
                b.await(10, TimeUnit.SECONDS);
            }
            return Map.of();
        }
    }

    private final RecordingRunner runner = new RecordingRunner();
    private final TriggerEngine engine = new TriggerEngine(InstantSource.fixed(Instant.EPOCH), runner);
    private final List<TriggerFiring> firings = Collections.synchronizedList(new ArrayList<>());

    TriggerEngineTest() {
        engine.addListener(new TriggerListener() {
            @Override
            public void fired(TriggerFiring firing) {
                firings.add(firing);
            }
        });
    }

    private static OptionalLong exports(String name) {
        return name.equals("a") || name.equals("b") ? OptionalLong.of(SIZE) : OptionalLong.empty();
    }

    private List<Trigger> add(Object... specs) {
        return engine.add(List.of(specs), "triggers", TriggerEngineTest::exports);
    }

    private static Observation write(String export, long index) {
        return Observation.request(export, BlockOp.WRITE, index * 4096, 4096, 1);
    }

    private static Observation flush(String export) {
        return Observation.request(export, BlockOp.FLUSH, 0, 0, 1);
    }

    @Test
    void afterTwentyWritesActsOnTheTwentyFirstOnly() {
        add(Map.of(
                "when",
                Map.of("device", "a", "ops", List.of("write"), "after", 20L),
                "actions",
                List.of(
                        Map.of("action", "hold"),
                        Map.of("execute", "write-cache-arm-flush-error", "arguments", Map.of("device", "a")))));
        for (int i = 0; i < 200; i++) {
            engine.onRequest(Observation.request("a", BlockOp.READ, 0, 4096, 1), 0); // reads do not count
            List<RequestAction> actions = engine.onRequest(write("a", i), 0);
            if (i == 20) {
                assertEquals(1, actions.size());
                assertInstanceOf(TriggerAction.Hold.class, actions.getFirst().action());
            } else {
                assertTrue(actions.isEmpty(), "write " + i + " must go on untouched");
            }
        }
        assertEquals(List.of("write-cache-arm-flush-error a"), runner.ran);
        assertEquals(1, firings.size());
        assertEquals(20 * 4096L, firings.getFirst().observation().offset());
        assertFalse(engine.isEngaged(), "a trigger that fired as often as it may is no longer evaluated");
        assertEquals(1L, engine.describe().getFirst().get("fired"));
    }

    @Test
    void nthEveryAndRepeat() {
        add(Map.of(
                "when",
                Map.of("ops", List.of("write"), "every", 10L),
                "repeat",
                true,
                "actions",
                List.of(Map.of("action", "fail"))));
        List<Long> failed = new ArrayList<>();
        for (int i = 1; i <= 35; i++) {
            if (!engine.onRequest(write(i % 2 == 0 ? "a" : "b", i), 0).isEmpty()) {
                failed.add((long) i);
            }
        }
        assertEquals(List.of(10L, 20L, 30L), failed, "every 10th write across both exports");
    }

    @Test
    void firstWriteAfterTheThirdFlush() {
        add(Map.of(
                "when",
                Map.of(
                        "sequence",
                        List.of(
                                Map.of("device", "a", "ops", List.of("flush"), "nth", 3L),
                                Map.of("device", "a", "ops", List.of("write")))),
                "actions",
                List.of(Map.of("action", "lose"))));
        List<String> seen = new ArrayList<>();
        String[] script = {"w", "f", "w", "f", "w", "w", "f", "w", "w", "f", "w"};
        for (int i = 0; i < script.length; i++) {
            Observation o = script[i].equals("f") ? flush("a") : write("a", i);
            if (!engine.onRequest(o, 0).isEmpty()) {
                seen.add(i + script[i]);
            }
        }
        assertEquals(List.of("7w"), seen);
    }

    @Test
    void allOfAndAnyOfAndEvents() {
        add(Map.of(
                "when",
                Map.of(
                        "all-of",
                        List.of(
                                Map.of("event", "power-cut", "device", "b"),
                                Map.of("event", "flush-done", "device", "a", "nth", 2L))),
                "actions",
                List.of(Map.of("execute", "power-fail", "arguments", Map.of("device", "a")))));
        assertTrue(engine.watchesEvents());
        engine.onEvent(Observation.event(Observation.Kind.FLUSH_DONE, "a", null));
        engine.onEvent(Observation.event(Observation.Kind.POWER_CUT, "b", null));
        assertTrue(runner.ran.isEmpty());
        engine.onEvent(Observation.event(Observation.Kind.FLUSH_DONE, "a", null));
        assertEquals(List.of("power-fail a"), runner.ran);
    }

    @Test
    void crossExportCommandRunsBeforeTheRequestGoesOnAndLaterRequestsWait() throws Exception {
        add(Map.of(
                "when",
                Map.of("device", "a", "ops", List.of("write"), "nth", 50L),
                "actions",
                List.of(Map.of("execute", "power-fail", "arguments", Map.of("device", "b")))));
        for (int i = 1; i < 50; i++) {
            engine.onRequest(write("a", i), 0);
        }
        runner.block = new CountDownLatch(1);
        Thread fiftieth = Thread.ofVirtual().start(() -> engine.onRequest(write("a", 50), 0));
        org.awaitility.Awaitility.await().until(() -> runner.ran.size() == 1);
        AtomicInteger passed = new AtomicInteger();
        Thread fiftyFirst = Thread.ofVirtual().start(() -> {
            engine.onRequest(write("a", 51), 0);
            passed.incrementAndGet();
        });
        org.awaitility.Awaitility.await("the 51st write waits while the 50th's actions run")
                .during(java.time.Duration.ofMillis(100))
                .atMost(java.time.Duration.ofSeconds(5))
                .until(() -> passed.get() == 0);
        assertTrue(fiftieth.isAlive(), "the 50th write waits for its own actions");
        runner.block.countDown();
        fiftieth.join(5000);
        fiftyFirst.join(5000);
        assertEquals(1, passed.get());
    }

    @Test
    void concurrentRequestsFireExactlyOnce() throws Exception {
        add(Map.of("when", Map.of("ops", List.of("write"), "nth", 500L), "actions", List.of(Map.of("action", "fail"))));
        AtomicInteger hits = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int base = t * 1000;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 200; i++) {
                    if (!engine.onRequest(write("a", base + i), 0).isEmpty()) {
                        hits.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1, hits.get());
    }

    @Test
    void requestsOfAConnectionAreCountedInArrivalOrderWhateverThreadGetsThereFirst() throws Exception {
        add(Map.of(
                "when",
                Map.of("device", "a", "ops", List.of("write"), "nth", 3L),
                "actions",
                List.of(Map.of("action", "fail"))));
        engine.onRequest(write("a", 1), 1); // sets the connection's count going
        List<Long> firedAt = Collections.synchronizedList(new ArrayList<>());
        // Sequence 4 reaches the engine before 3, and a read (2) nobody counts only passes by.
        Thread fourth = Thread.ofVirtual().start(() -> {
            if (!engine.onRequest(write("a", 4), 4).isEmpty()) {
                firedAt.add(4L);
            }
        });
        Thread third = Thread.ofVirtual().start(() -> {
            if (!engine.onRequest(write("a", 3), 3).isEmpty()) {
                firedAt.add(3L);
            }
        });
        org.awaitility.Awaitility.await("both wait for request 2")
                .during(java.time.Duration.ofMillis(50))
                .atMost(java.time.Duration.ofSeconds(5))
                .until(firedAt::isEmpty);
        long passed = System.nanoTime();
        engine.pass(1, 2); // in its turn: no lock taken, but the waiters must be woken
        fourth.join(5000);
        third.join(5000);
        assertEquals(List.of(4L), firedAt, "the third write is the one with sequence number 4");
        assertTrue(
                System.nanoTime() - passed < TriggerEngine.TURN_WAIT_NANOS / 2,
                "the pass woke the waiters; they did not wait out their turn's time limit");
    }

    @Test
    void badInputNamesTheMemberAndAddsNothing() {
        Map<String, Object> good =
                Map.of("when", Map.of("ops", List.of("write")), "actions", List.of(Map.of("action", "fail")));
        assertError(
                "triggers[1].when.ops names an unknown operation 'wrte'",
                good,
                Map.of("when", Map.of("ops", List.of("wrte")), "actions", List.of(Map.of("action", "fail"))));
        assertError(
                "triggers[1].when.device names no export: 'c'",
                good,
                Map.of("when", Map.of("device", "c"), "actions", List.of(Map.of("action", "fail"))));
        assertError(
                "triggers[1].actions[0].execute 'nope': The command nope has not been found",
                good,
                Map.of("when", Map.of(), "actions", List.of(Map.of("execute", "nope"))));
        assertError(
                "triggers[1].actions[0].action acts on the request",
                good,
                Map.of("when", Map.of("event", "flush-done"), "actions", List.of(Map.of("action", "hold"))));
        assertError(
                "triggers[1].actions[1].action decides the request's outcome",
                good,
                Map.of("when", Map.of(), "actions", List.of(Map.of("action", "fail"), Map.of("action", "lose"))));
        assertError(
                "triggers[1].when.nth can not be combined with every",
                good,
                Map.of("when", Map.of("nth", 1L, "every", 2L), "actions", List.of(Map.of("action", "fail"))));
        assertError(
                "triggers[1].when.colour is not a parameter",
                good,
                Map.of("when", Map.of("colour", "red"), "actions", List.of(Map.of("action", "fail"))));
        assertError("triggers[1].actions is missing", good, Map.of("when", Map.of()));
        assertEquals(0, engine.size());
        assertFalse(engine.isEngaged());
    }

    private void assertError(String expectedStart, Object... specs) {
        FaultRuleException e = assertThrows(FaultRuleException.class, () -> add(specs));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }

    @Test
    void removeClearAndProgress() {
        List<Trigger> added = add(
                Map.of(
                        "name",
                        "twenty",
                        "when",
                        Map.of("device", "a", "ops", List.of("write"), "after", 20L),
                        "actions",
                        List.of(Map.of("action", "fail"))),
                Map.of(
                        "when",
                        Map.of("device", "b", "ops", List.of("read")),
                        "actions",
                        List.of(Map.of("action", "fail"))));
        for (int i = 0; i < 12; i++) {
            engine.onRequest(write("a", i), 0);
        }
        Map<String, Object> first = engine.describe().getFirst();
        assertEquals("twenty", first.get("name"));
        assertEquals(List.of("12/21 write on a"), first.get("waiting"));
        assertTrue(engine.watches("a", BlockOp.WRITE));
        assertFalse(engine.watches("a", BlockOp.READ));
        assertTrue(engine.watches("b", BlockOp.READ));
        assertThrows(
                IllegalArgumentException.class,
                () -> engine.remove(List.of(added.get(1).id(), 99L)));
        assertEquals(2, engine.size(), "an unknown id removes nothing");
        engine.remove(List.of(added.getFirst().id()));
        assertFalse(engine.watches("a", BlockOp.WRITE));
        assertEquals(1, engine.clear().size());
        assertEquals(0, engine.size());
    }
}
