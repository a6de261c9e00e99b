package dev.faultdisk.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * docs/BENCHMARKS.md, "JUnit: a server per class": 20 tests in the pattern of docs/JUNIT.md's
 * example, run with a server per test and with one per class, each way several rounds; prints
 * the time per test. Not a test (no timing is asserted): run by bench/junit-per-class.sh.
 */
public final class PerClassBench {
    private static final int ROUNDS = 15;
    private static final int WARM_UP = 5;

    private PerClassBench() {}

    public static void main(String[] args) {
        boolean withQemuIo = args.length > 0 && args[0].equals("qemu-io");
        Class<?> perTest = withQemuIo ? Fixtures.QemuIoPerTest.class : Fixtures.ControlPerTest.class;
        Class<?> perClass = withQemuIo ? Fixtures.QemuIoPerClass.class : Fixtures.ControlPerClass.class;
        Class<?> empty = Fixtures.Empty.class;
        for (int i = 0; i < WARM_UP; i++) { // class loading and JIT, for all three
            run(empty);
            run(perTest);
            run(perClass);
        }
        double[] emptyMs = new double[ROUNDS];
        double[] perTestMs = new double[ROUNDS];
        double[] perClassMs = new double[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            emptyMs[round] = run(empty);
            perTestMs[round] = run(perTest);
            perClassMs[round] = run(perClass);
            System.out.printf(
                    Locale.ROOT,
                    "round %d: empty tests %.2f ms/test, per test %.2f ms/test, per class %.2f ms/test%n",
                    round + 1,
                    emptyMs[round],
                    perTestMs[round],
                    perClassMs[round]);
        }
        double base = median(emptyMs);
        double a = median(perTestMs);
        double b = median(perClassMs);
        System.out.printf(
                Locale.ROOT,
                "%s, medians of %d rounds of 20 tests: empty tests without a server %.2f ms/test (the launcher's "
                        + "own cost); server per test %.2f, per class %.2f ms/test: %.1fx; beyond the empty tests "
                        + "%.2f and %.2f ms/test: %.1fx%n",
                withQemuIo ? "docs pattern with qemu-io" : "docs pattern, control only",
                ROUNDS,
                base,
                a,
                b,
                a / b,
                a - base,
                b - base,
                (a - base) / (b - base));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** Runs the fixture's 20 tests; returns the wall time per test in milliseconds. */
    private static double run(Class<?> fixture) {
        long start = System.nanoTime();
        TestExecutionSummary summary = FixtureRun.run(fixture);
        long nanos = System.nanoTime() - start;
        if (summary.getTestsSucceededCount() != 20) {
            summary.printFailuresTo(
                    new java.io.PrintWriter(
                            new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true),
                    5);
            throw new IllegalStateException(fixture.getSimpleName() + ": not all 20 tests passed");
        }
        return nanos / 1e6 / 20;
    }

    static final class Fixtures {
        private Fixtures() {}

        /** The first test of docs/JUNIT.md's example, control part only: arm a fault, check the counters. */
        abstract static class Control {
            @RepeatedTest(20)
            void aFullDiskFailsOneWrite(FaultdiskClient fd) {
                fd.blkdebugSetRules(
                        "disk0",
                        BlkdebugRule.injectError("write_aio").errno("ENOSPC").once());
                assertEquals(0, fd.queryBlockstats("disk0").op("write").errors());
            }
        }

        /** The first test of docs/JUNIT.md's example as it is, with qemu-io as the client. */
        abstract static class WithQemuIo {
            @RepeatedTest(20)
            void aFullDiskFailsOneWriteThenRecovers(FaultdiskClient fd, @ExportUri("disk0") String uri) {
                fd.blkdebugSetRules(
                        "disk0",
                        BlkdebugRule.injectError("write_aio").errno("ENOSPC").once());
                CommandResult failed = QemuIo.run(uri, "write -P 0xab 0 4k");
                assertTrue((failed.stdout() + failed.stderr()).contains("No space left on device"), failed.toString());
                CommandResult ok = QemuIo.run(uri, "write -P 0xab 0 4k");
                assertEquals(0, ok.exit(), ok.toString());
            }
        }

        /** The launcher's own cost per test: 20 empty tests, no server. */
        static final class Empty {
            @RepeatedTest(20)
            void nothing() {}
        }

        @Faultdisk(exports = "disk0=memory:64M")
        static final class ControlPerTest extends Control {}

        @Faultdisk(exports = "disk0=memory:64M", perClass = true)
        static final class ControlPerClass extends Control {}

        @Faultdisk(exports = "disk0=memory:64M")
        static final class QemuIoPerTest extends WithQemuIo {}

        @Faultdisk(exports = "disk0=memory:64M", perClass = true)
        static final class QemuIoPerClass extends WithQemuIo {}
    }
}
