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

    private static TestExecutionSummary run(Class<?> fixture) {
        SEEN.clear();
        return FixtureRun.run(fixture);
    }

    @Test
    void eachTestGetsAFreshServerThatStopsAfterIt() {
        TestExecutionSummary summary = run(Fixtures.TwoTests.class);
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
        TestExecutionSummary summary = run(Fixtures.MethodOverride.class);
        assertEquals(2, summary.getTestsSucceededCount(), FixtureRun.failures(summary));
        assertEquals(List.of("a", "b"), SEEN.get(0).get("exports"));
        assertEquals(List.of("m"), SEEN.get(1).get("exports"));
    }

    @Test
    void mistakesFailTheTestWithAClearMessage() {
        TestExecutionSummary summary = run(Fixtures.Mistakes.class);
        assertEquals(0, summary.getTestsSucceededCount());
        String text = FixtureRun.failures(summary);
        assertTrue(text.contains("@ExportUri(\"nope\"): no such export; the test's exports are [a]"), text);
        assertTrue(text.contains("@Faultdisk export 'nonsense': "), text);
        assertEquals(2, summary.getTestsFailedCount(), text);
    }

    @Test
    void constructorsCannotTakeTheClient() {
        TestExecutionSummary summary = run(Fixtures.ConstructorInjection.class);
        String text = FixtureRun.failures(summary);
        assertEquals(1, summary.getTestsFailedCount(), text);
        assertTrue(text.contains("not of a constructor"), text);
    }

    /** Fixture classes: nested, so the build's own test run does not pick them up. */
    static final class Fixtures {
        private Fixtures() {}

        @Faultdisk(exports = {"a=memory:1M", "b=memory:2M"})
        @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
        static class TwoTests {
            private FaultdiskClient beforeEachClient;

            @BeforeEach
            void before(FaultdiskClient client) {
                beforeEachClient = client;
            }

            @Test
            @Order(1)
            void first(
                    FaultdiskClient client,
                    FaultdiskServer server,
                    @ExportUri("a") String a,
                    @ExportUri("b") URI b,
                    @ExportUri String first) {
                client.blkdebugSetRules("a", BlkdebugRule.injectError("write_aio"));
                record(client, server, a, b, first);
            }

            @Test
            @Order(2)
            void second(
                    FaultdiskClient client,
                    FaultdiskServer server,
                    @ExportUri("a") String a,
                    @ExportUri("b") URI b,
                    @ExportUri String first) {
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
                SEEN.add(Map.of(
                        "exports",
                        client.queryBlock().stream().map(i -> i.device()).toList()));
            }

            @Test
            @Order(2)
            @Faultdisk(exports = "m=memory:1M")
            void methodExports(FaultdiskClient client) {
                SEEN.add(Map.of(
                        "exports",
                        client.queryBlock().stream().map(i -> i.device()).toList()));
            }
        }

        @Faultdisk(exports = "a=memory:1M")
        static class Mistakes {
            @Test
            void unknownExport(@ExportUri("nope") String uri) {}

            @Test
            @Faultdisk(exports = "nonsense")
            void badSpec() {}
        }

        @Faultdisk
        static class ConstructorInjection {
            ConstructorInjection(FaultdiskClient client) {}

            @Test
            void never() {}
        }
    }
}
