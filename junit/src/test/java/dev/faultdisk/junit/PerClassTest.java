package dev.faultdisk.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.Trigger;
import dev.faultdisk.client.TriggerAction;
import dev.faultdisk.client.TriggerCondition;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.export.Export;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** {@code @Faultdisk(perClass = true)}: one server for a class's tests, cleared between them. */
class PerClassTest {
    static final List<Map<String, Object>> SEEN = new ArrayList<>();

    @Test
    void theTestsShareOneServerAndEachStartsWithoutWhatTheOneBeforeLeft() throws Exception {
        TestExecutionSummary summary = FixtureRun.run(Fixtures.Shared.class, SEEN);
        assertEquals(3, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        Map<String, Object> beforeAll = SEEN.get(0);
        Map<String, Object> first = SEEN.get(1);
        Map<String, Object> second = SEEN.get(2);
        Map<String, Object> own = SEEN.get(3);
        assertSame(beforeAll.get("server"), first.get("server"), "@BeforeAll saw the class's server");
        assertSame(first.get("server"), second.get("server"));
        assertSame(first.get("client"), second.get("client"));
        assertNotSame(first.get("server"), own.get("server"), "a method's own @Faultdisk gets its own server");
        assertEquals(List.of("own"), own.get("exports"));

        assertEquals(List.of(), second.get("faults"), "fault rules cleared");
        assertEquals(List.of(), second.get("triggers"), "triggers cleared");
        assertEquals(List.of(), second.get("blkdebug-rules"), "blkdebug rules cleared");
        assertEquals(0, second.get("breakpoints"), "breakpoints cleared");
        assertEquals(List.of("a"), second.get("exports"), "the export the first test added is gone");
        assertEquals(CacheMode.WRITETHROUGH, second.get("cache"), "the declared cache mode is back");
        assertEquals(List.of(), second.get("events"), "no event of the first test is left queued");
        assertEquals((byte) 7, second.get("data"), "data stays");
        CompletableFuture<?> held = (CompletableFuture<?>) first.get("held");
        held.get(10, TimeUnit.SECONDS); // the write held at the breakpoint went on

        FaultdiskServer server = (FaultdiskServer) first.get("server");
        assertTrue(server.nbd().isShuttingDown(), "the class's server stopped after its last test");
        assertFalse(((FaultdiskClient) first.get("client")).isOpen());
    }

    @Test
    void withRevertDataEachTestStartsFromTheDataAfterSetup() {
        TestExecutionSummary summary = FixtureRun.run(Fixtures.Reverted.class, SEEN);
        assertEquals(2, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        assertEquals(List.of((byte) 5, (byte) 0), SEEN.get(1).get("seen"), "the first test's writes were reverted");
    }

    static final class Fixtures {
        private Fixtures() {}

        @Faultdisk(exports = "a=memory:1M", perClass = true, revertData = true)
        @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
        static class Reverted {
            @BeforeAll
            static void setUp(FaultdiskServer server) throws IOException {
                write(server, 0, 5);
            }

            private static void write(FaultdiskServer server, long offset, int value) throws IOException {
                server.exports()
                        .find("a")
                        .orElseThrow()
                        .device()
                        .write(BlockRequest.of(BlockOp.WRITE, offset, 1), ByteBuffer.wrap(new byte[] {(byte) value}));
            }

            private static byte read(FaultdiskServer server, long offset) throws IOException {
                ByteBuffer b = ByteBuffer.allocate(1);
                server.exports().find("a").orElseThrow().device().read(BlockRequest.of(BlockOp.READ, offset, 1), b);
                return b.get(0);
            }

            @Test
            @Order(1)
            void changesTheData(FaultdiskServer server) throws IOException {
                assertEquals(5, read(server, 0), "setup's data");
                write(server, 0, 7);
                write(server, 4096, 9);
                SEEN.add(Map.of("seen", List.of(read(server, 0), read(server, 4096))));
            }

            @Test
            @Order(2)
            void findsTheDataAfterSetup(FaultdiskServer server) throws IOException {
                SEEN.add(Map.of("seen", List.of(read(server, 0), read(server, 4096))));
            }
        }

        @Faultdisk(exports = "a=memory:1M", perClass = true)
        @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
        static class Shared {
            @BeforeAll
            static void start(FaultdiskServer server) {
                SEEN.add(Map.of("server", server));
            }

            @Test
            @Order(1)
            void leavesEverythingBehind(FaultdiskClient fd, FaultdiskServer server) throws Exception {
                Export a = server.exports().find("a").orElseThrow();
                a.device().write(BlockRequest.of(BlockOp.WRITE, 0, 1), ByteBuffer.wrap(new byte[] {7}));
                fd.faultAdd("a", FaultRule.delay().fixedMs(5).ops("read"));
                fd.triggerAdd(Trigger.when(TriggerCondition.requests("a", BlockOp.READ))
                        .then(TriggerAction.fail("EIO")));
                fd.blkdebugSetRules("a", BlkdebugRule.injectError("read_aio"));
                fd.writeCacheSetMode("a", CacheMode.WRITEBACK);
                fd.exportAdd("extra", "memory:1M");
                fd.blkdebugSetBreakpoint("a", "write_aio", "w");
                CompletableFuture<Void> held = CompletableFuture.runAsync(
                        () -> {
                            try {
                                a.device().write(BlockRequest.of(BlockOp.WRITE, 512, 1), ByteBuffer.allocate(1));
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        },
                        r -> Thread.ofVirtual().start(r));
                fd.awaitEvent("BLKDEBUG_SUSPENDED", Duration.ofSeconds(10));
                fd.blkdebugSetBreakpoint("a", "flush_to_disk", "never-hit");
                SEEN.add(Map.of("server", server, "client", fd, "held", held));
            }

            @Test
            @Order(2)
            void findsItCleared(FaultdiskClient fd, FaultdiskServer server) throws Exception {
                Export a = server.exports().find("a").orElseThrow();
                ByteBuffer b = ByteBuffer.allocate(1);
                a.backend().read(BlockRequest.of(BlockOp.READ, 0, 1), b);
                SEEN.add(Map.of(
                        "server", server,
                        "client", fd,
                        "faults", fd.queryFaults(),
                        "triggers", fd.queryTriggers(),
                        "blkdebug-rules", fd.queryBlkdebugRules("a").rules(),
                        "breakpoints", a.blkdebug().breakpoints().size(),
                        "exports",
                                server.exports().all().stream()
                                        .map(Export::name)
                                        .toList(),
                        "cache", fd.queryWriteCache("a").mode(),
                        "events", fd.drainEvents(),
                        "data", b.get(0)));
            }

            @Test
            @Order(3)
            @Faultdisk(exports = "own=memory:1M")
            void aMethodWithItsOwnAnnotation(FaultdiskServer server) {
                SEEN.add(Map.of(
                        "server",
                        server,
                        "exports",
                        server.exports().all().stream().map(Export::name).toList()));
            }

            @AfterAll
            static void stop() {
                // Nothing: the extension stops the class's server after this.
            }
        }
    }
}
