package dev.faultdisk.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.server.WarmUp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The extension seen from outside: fixture classes run through the JUnit launcher record what
 * they were given, and this test checks the lifecycle, isolation and error messages.
 */
class FaultdiskExtensionTest {
    /** What the fixtures saw; each run starts it afresh. */
    static final List<Map<String, Object>> SEEN = new ArrayList<>();

    @Test
    void eachTestGetsAFreshServerThatStopsAfterIt() {
        TestExecutionSummary summary = FixtureRun.run(Fixtures.TwoTests.class, SEEN);
        assertEquals(2, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        assertEquals(2, SEEN.size());
        FaultdiskServer first = (FaultdiskServer) SEEN.get(0).get("server");
        FaultdiskServer second = (FaultdiskServer) SEEN.get(1).get("server");
        assertNotSame(first, second);
        assertEquals(List.of(), SEEN.get(1).get("rules"), "the first test's rule did not leak into the second");
        for (Map<String, Object> seen : SEEN) {
            FaultdiskClient client = (FaultdiskClient) seen.get("client");
            assertFalse(client.isOpen(), "client closed after the test");
            assertSame(client, seen.get("beforeEachClient"), "@BeforeEach and the test share one client");
            int nbdPort = ((InetSocketAddress) ((FaultdiskServer) seen.get("server")).nbdAddress()).getPort();
            assertEquals("nbd://127.0.0.1:" + nbdPort + "/a", seen.get("uriA"));
            assertEquals(URI.create("nbd://127.0.0.1:" + nbdPort + "/b"), seen.get("uriB"));
            assertEquals("nbd://127.0.0.1:" + nbdPort + "/a", seen.get("uriDefault"), "empty name: the first export");
            assertThrows(
                    IOException.class,
                    () -> new Socket("127.0.0.1", nbdPort).close(),
                    "NBD port closed after the test");
        }
    }

    @Test
    void aMethodAnnotationReplacesTheClasses() {
        TestExecutionSummary summary = FixtureRun.run(Fixtures.MethodOverride.class, SEEN);
        assertEquals(2, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        assertEquals(List.of("a", "b"), SEEN.get(0).get("exports"));
        assertEquals(List.of("m"), SEEN.get(1).get("exports"));
    }

    @Test
    void mistakesFailTheTestWithAClearMessage() {
        TestExecutionSummary summary = assertFails(
                Fixtures.Mistakes.class,
                2,
                "@ExportUri(\"nope\"): no such export; the test's exports are [a]",
                "@Faultdisk export 'nonsense': ");
        assertEquals(0, summary.getTestsSucceededCount());
    }

    @Test
    void aWarmUpRunsBeforeTheTestAndLeavesItsExportsAlone() {
        TestExecutionSummary summary = FixtureRun.run(Fixtures.WarmedUp.class, SEEN);
        assertEquals(1, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        WarmUp.Report report = (WarmUp.Report) SEEN.get(0).get("warmUp");
        assertEquals(null, report.failure());
        assertTrue(report.requests() > 4 * 64, "requests " + report.requests());
        assertEquals(0L, SEEN.get(0).get("reads"), "no warm-up read counted on the test's export");
        assertFails(Fixtures.NegativeWarmUp.class, 1, "@Faultdisk(warmUpMillis) must be 0 (none) or more");
    }

    @Test
    void constructorsCannotTakeTheClient() {
        assertFails(Fixtures.ConstructorInjection.class, 1, "not of a constructor");
    }

    @Test
    void triggersAreAddedBeforeEachTest() {
        TestExecutionSummary summary = FixtureRun.run(Fixtures.Triggers.class, SEEN);
        assertEquals(2, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        assertEquals(
                List.of("hold-third-write", "fail-second-read"), SEEN.get(0).get("names"));
        assertEquals(2L * 512, SEEN.get(0).get("held"), "the third write held");
        assertEquals(
                List.of("hold-third-write", "fail-second-read"), SEEN.get(1).get("names"), "added again");
    }

    @Test
    void badTriggersFailTheTestNamingTheMember() {
        assertFails(
                Fixtures.BadTriggers.class,
                3,
                "@Faultdisk triggers: triggers[1].when.ops names an unknown operation 'wrte'",
                "@Faultdisk triggers resource 'triggers/none.json': no such class-path resource",
                "@Faultdisk triggers: a trigger is a JSON object (or an array of them), not a string");
    }

    @Test
    void aHangRuleWithoutATimeoutIsBoundedByTheDefaultHoldTimeoutWhichSaysSo() {
        List<String> warnings = new ArrayList<>();
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.faultdisk.fault.FaultEngine");
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                synchronized (warnings) {
                    warnings.add(r.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(capture);
        try {
            TestExecutionSummary summary = FixtureRun.run(Fixtures.ForgottenHang.class, SEEN);
            assertEquals(1, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        } finally {
            log.removeHandler(capture);
        }
        assertTrue(
                ((String) SEEN.getFirst().get("error")).contains("held request failed with EIO"),
                SEEN.getFirst().toString());
        synchronized (warnings) {
            assertEquals(1, warnings.size(), warnings.toString());
            assertEquals(
                    "a: request 1 (write of 512 bytes at 4096), held by fault rule 1 without a timeout, was failed"
                            + " with EIO after 1000 ms by the default hold timeout (@Faultdisk(holdTimeoutSeconds = 1);"
                            + " give the rule a timeout-ms, release it, or change holdTimeoutSeconds)",
                    warnings.getFirst());
        }
    }

    /** Runs {@code fixture}: {@code failed} of its tests fail, and their failures say each of {@code messages}. */
    private static TestExecutionSummary assertFails(Class<?> fixture, int failed, String... messages) {
        TestExecutionSummary summary = FixtureRun.run(fixture, SEEN);
        String text = FixtureRun.failures(summary);
        assertEquals(failed, summary.getTestsFailedCount(), text);
        for (String message : messages) {
            assertTrue(text.contains(message), text);
        }
        return summary;
    }

    /** Fixture classes: nested, so the build's own test run does not pick them up. */
    static final class Fixtures {
        private Fixtures() {}

        /** Two runs of one test: the first adds a rule, the second must not see it. */
        @Faultdisk(exports = {"a=memory:1M", "b=memory:2M"})
        static class TwoTests {
            private FaultdiskClient beforeEachClient;

            @BeforeEach
            void before(FaultdiskClient client) {
                beforeEachClient = client;
            }

            @RepeatedTest(2)
            void run(
                    RepetitionInfo repetition,
                    FaultdiskClient client,
                    FaultdiskServer server,
                    @ExportUri("a") String a,
                    @ExportUri("b") URI b,
                    @ExportUri String first) {
                if (repetition.getCurrentRepetition() == 1) {
                    client.blkdebugSetRules("a", BlkdebugRule.injectError("write_aio"));
                }
                record(client, server, a, b, first);
            }

            private void record(FaultdiskClient client, FaultdiskServer server, String a, URI b, String first) {
                SEEN.add(Map.of(
                        "client",
                        client,
                        "server",
                        server,
                        "uriA",
                        a,
                        "uriB",
                        b,
                        "uriDefault",
                        first,
                        "beforeEachClient",
                        beforeEachClient,
                        "rules",
                        client.queryBlkdebugRules("a").rules()));
            }
        }

        @Faultdisk(exports = {"a=memory:1M", "b=memory:2M"})
        @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
        static class MethodOverride {
            @Test
            @Order(1)
            void classExports(FaultdiskClient client) {
                recordExports(client);
            }

            @Test
            @Order(2)
            @Faultdisk(exports = "m=memory:1M")
            void methodExports(FaultdiskClient client) {
                recordExports(client);
            }

            private static void recordExports(FaultdiskClient client) {
                SEEN.add(Map.of(
                        "exports",
                        client.queryBlock().stream().map(i -> i.device()).toList()));
            }
        }

        @Faultdisk(exports = "a=memory:8M", warmUpMillis = 200)
        static class WarmedUp {
            @Test
            void run(FaultdiskServer server, FaultdiskClient client) {
                SEEN.add(Map.of(
                        "warmUp",
                        server.warmUp(),
                        "reads",
                        client.queryBlockstats("a").reads()));
            }
        }

        @Faultdisk(exports = "a=memory:1M", warmUpMillis = -1)
        static class NegativeWarmUp {
            @Test
            void run() {}
        }

        @Faultdisk(exports = "a=memory:1M")
        static class Mistakes {
            @Test
            void unknownExport(@ExportUri("nope") String uri) {}

            @Test
            @Faultdisk(exports = "nonsense")
            void badSpec() {}
        }

        @Faultdisk(
                exports = "a=memory:1M",
                triggers = {"""
                    {"name": "hold-third-write", "when": {"device": "a", "ops": ["write"], "nth": 3},
                     "actions": [{"action": "hold", "timeout-ms": 30000}]}""", "triggers/fail-second-read.json"})
        @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
        static class Triggers {
            @Test
            @Order(1)
            void holdsTheThirdWrite(FaultdiskClient client, FaultdiskServer server) throws Exception {
                var device = server.exports().find("a").orElseThrow().device();
                java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();
                try {
                    List<java.util.concurrent.Future<?>> writes = new ArrayList<>();
                    for (int i = 0; i < 3; i++) {
                        long offset = 512L * i;
                        writes.add(threads.submit(() -> {
                            device.write(
                                    dev.faultdisk.device.BlockRequest.of(dev.faultdisk.wire.BlockOp.WRITE, offset, 512),
                                    java.nio.ByteBuffer.allocate(512));
                            return null;
                        }));
                        if (i < 2) {
                            writes.get(i).get(10, java.util.concurrent.TimeUnit.SECONDS);
                        }
                    }
                    org.awaitility.Awaitility.await("the third write held")
                            .atMost(java.time.Duration.ofSeconds(10))
                            .until(() -> !client.queryHeldRequests("a").isEmpty());
                    long held = client.queryHeldRequests("a").getFirst().offset();
                    client.faultRelease("a");
                    writes.get(2).get(10, java.util.concurrent.TimeUnit.SECONDS);
                    SEEN.add(Map.of("names", names(client), "held", held));
                } finally {
                    threads.shutdownNow();
                }
            }

            @Test
            @Order(2)
            void everyTestGetsThemAfresh(FaultdiskClient client) {
                SEEN.add(Map.of("names", names(client)));
            }

            private static List<String> names(FaultdiskClient client) {
                return client.queryTriggers().stream().map(t -> t.name()).toList();
            }
        }

        /** A hang rule with no timeout that the test never releases: it must not hold the test for ever. */
        @Faultdisk(exports = "a=memory:1M", holdTimeoutSeconds = 1)
        static class ForgottenHang {
            @Test
            void writes(FaultdiskClient client, FaultdiskServer server) {
                client.faultAdd("a", dev.faultdisk.client.FaultRule.hang().ops(dev.faultdisk.wire.BlockOp.WRITE));
                var device = server.exports().find("a").orElseThrow().device();
                IOException e = assertThrows(
                        IOException.class,
                        () -> device.write(
                                dev.faultdisk.device.BlockRequest.of(dev.faultdisk.wire.BlockOp.WRITE, 4096, 512),
                                java.nio.ByteBuffer.allocate(512)));
                SEEN.add(Map.of("error", String.valueOf(e.getMessage())));
            }
        }

        @Faultdisk(exports = "a=memory:1M")
        static class BadTriggers {
            @Test
            @Faultdisk(
                    exports = "a=memory:1M",
                    triggers = {"""
                        {"when": {"ops": ["write"]}, "actions": [{"action": "hold"}]}""", """
                        {"when": {"ops": ["wrte"]}, "actions": [{"action": "hold"}]}"""})
            void unknownOperation() {}

            @Test
            @Faultdisk(exports = "a=memory:1M", triggers = "triggers/none.json")
            void missingResource() {}

            @Test
            @Faultdisk(exports = "a=memory:1M", triggers = "[\"hold\"]")
            void notAnObject() {}
        }

        @Faultdisk
        static class ConstructorInjection {
            ConstructorInjection(FaultdiskClient client) {}

            @Test
            void never() {}
        }
    }
}
