package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.Io;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Delays and throttles on virtual time: each read moves the clock by exactly the delay it met. */
class DelayAndThrottleTest {

    /** The virtual time {@code n} 4 KiB reads took each, in milliseconds. */
    private static double[] readTimes(Disk disk, int n) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            Duration before = disk.time.elapsed();
            disk.read(4096L * (i % 64), 4096);
            ms[i] = disk.time.elapsed().minus(before).toNanos() / 1e6;
        }
        return ms;
    }

    /** Moves the clock by each of the given ms, then reads once: what each read waited, in ms. */
    private static double[] waitsAfter(Disk disk, long... advanceMs) throws Exception {
        double[] ms = new double[advanceMs.length];
        for (int i = 0; i < advanceMs.length; i++) {
            disk.time.advance(Duration.ofMillis(advanceMs[i]));
            ms[i] = readTimes(disk, 1)[0];
        }
        return ms;
    }

    private static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[(int) Math.ceil(p * sorted.length) - 1];
    }

    @Test
    void fixedDelayPerOperation() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "delay", "ms", 10, "ops", "read"), rule("type", "delay", "ms", 2.5, "ops", "flush"));
            assertEquals(
                    List.of(10.0, 10.0),
                    Arrays.stream(readTimes(disk, 2)).boxed().toList());
            Duration before = disk.time.elapsed();
            disk.write(0, new byte[512]);
            assertEquals(before, disk.time.elapsed(), "writes are not delayed");
            Io.flush(disk.device());
            assertEquals(
                    Duration.ofMillis(2).plusNanos(500_000), disk.time.elapsed().minus(before));
            assertEquals("delayed 10.000 ms", disk.faultEntries().getFirst().get("action"));
            assertTrue(disk.faults().mayBlock());
        }
    }

    @Test
    void jitterStaysInItsBounds() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "delay", "ms", 10, "jitter-ms", 2));
            double[] t = readTimes(disk, 2000);
            assertTrue(Arrays.stream(t).allMatch(ms -> ms >= 8 && ms <= 12));
            assertTrue(Arrays.stream(t).distinct().count() > 100, "jittered");
            double mean = Arrays.stream(t).average().orElseThrow();
            assertTrue(Math.abs(mean - 10) < 0.2, "mean " + mean);
        }
    }

    @Test
    void logNormalHasTheAskedMedianAndP99() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "delay", "distribution", "lognormal", "median-ms", 20, "p99-ms", 200, "seed", 11));
            double[] t = readTimes(disk, 20_000);
            assertEquals(20, percentile(t, 0.5), 2, "median");
            assertEquals(200, percentile(t, 0.99), 25, "p99");
        }
    }

    @Test
    void paretoHasTheAskedMinimumAndP99() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "delay", "distribution", "pareto", "min-ms", 5, "p99-ms", 100, "seed", 12));
            double[] t = readTimes(disk, 20_000);
            assertTrue(Arrays.stream(t).min().orElseThrow() >= 5);
            assertEquals(100, percentile(t, 0.99), 15, "p99");
        }
    }

    @Test
    void rampWorsensOverTime() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "delay", "distribution", "ramp", "from-ms", 0, "to-ms", 100, "over-ms", 1000));
            assertEquals(0.0, readTimes(disk, 1)[0], "no delay at the start: not even a firing");
            assertEquals(List.of(), disk.faultEntries());
            // 500 ms in; 550 ms in (the read before waited 50); an hour later, held at to-ms.
            assertArrayEquals(new double[] {50, 55, 100}, waitsAfter(disk, 500, 0, 3_600_000));
        }
    }

    @Test
    void periodicStallsHoldWhatArrivesDuringThem() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "delay", "distribution", "stall", "period-ms", 100, "stall-ms", 20));
            // Arrived at 0: waits for the stall's end; at 20 ms the disk runs; at 105 ms, 15 ms of
            // the second stall are left.
            assertArrayEquals(new double[] {20, 0, 15}, waitsAfter(disk, 0, 0, 85));
        }
    }

    @Test
    void throttleLimitsOperationsPerSecond() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "throttle", "ops-per-second", 100, "burst-ops", 1, "ops", "read"));
            double[] t = readTimes(disk, 101);
            assertEquals(1000.0, Arrays.stream(t).sum(), 0.001, "101 reads at 100/s take 1 s after the first");
            Duration before = disk.time.elapsed();
            for (int i = 0; i < 50; i++) {
                disk.write(0, new byte[512]);
            }
            assertEquals(before, disk.time.elapsed(), "writes are not throttled");
        }
    }

    @Test
    void throttleLimitsBytesPerSecondWithABurst() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "throttle", "bytes-per-second", "1M", "burst-bytes", "64K"));
            double[] t = readTimes(disk, 256); // 1 MiB
            assertEquals(0.0, t[0]);
            assertEquals(0.0, t[15], "16 reads of 4 KiB fit in the 64 KiB burst");
            double total = Arrays.stream(t).sum();
            assertEquals(1000.0 * (1024 - 64) / 1024, total, 1, "the rest flows at 1 MiB/s");
            assertTrue(disk.faultEntries().getFirst().get("action").toString().startsWith("throttled "));
        }
    }
}
