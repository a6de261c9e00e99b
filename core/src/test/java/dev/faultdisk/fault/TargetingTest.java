package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import dev.faultdisk.wire.Errno;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The targeting every rule type shares: operations, range, counts, probability, time, connection. */
class TargetingTest {

    /** Which of {@code n} 512-byte reads at offsets 0, 512, ... fail. */
    private static List<Integer> failingReads(Disk disk, int n) throws Exception {
        List<Integer> failed = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try {
                disk.read(512L * i, 512);
            } catch (DeviceException e) {
                failed.add(i);
            }
        }
        return failed;
    }

    @Test
    void operationsAndByteRange() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "error", "ops", List.of("write", "flush"), "offset", 4096, "length", 4096));
            disk.read(4096, 512); // reads are not targeted
            disk.write(0, new byte[4096]); // ends where the range starts
            disk.write(8192, new byte[512]); // starts where it ends
            assertThrows(DeviceException.class, () -> disk.write(4095, new byte[2])); // overlaps by one byte
            assertThrows(DeviceException.class, () -> disk.write(8191, new byte[1]));
            DeviceException flush = assertThrows(DeviceException.class, () -> Io.flush(disk.device()));
            assertEquals(Errno.EIO, flush.errno(), "flush matches any range");
            Io.trim(disk.device(), 4096, 4096, false);
            Io.extents(disk.device(), 4096, 512, (len, flags) -> false);
        }
    }

    @Test
    void nthAfterAndTimes() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "error", "ops", "read", "nth", 3));
            assertEquals(List.of(2), failingReads(disk, 10));
            disk.faults().clear();
            disk.add(rule("type", "error", "ops", "read", "after", 4, "times", 3));
            assertEquals(List.of(4, 5, 6), failingReads(disk, 10));
            FaultRule r = disk.faults().rules().getFirst();
            assertEquals(10, r.matched());
            assertEquals(3, r.fired());
            assertEquals("exhausted", r.state(disk.faults().time()));
        }
    }

    @Test
    void probabilityIsSeededAndAboutRight() throws Exception {
        long seed = new SplittableRandom().nextLong();
        List<List<Integer>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            try (Disk disk = Disk.auto(4 << 20)) {
                disk.add(rule("type", "error", "ops", "read", "probability", 0.2, "seed", seed));
                runs.add(failingReads(disk, 2000));
            }
        }
        assertEquals(runs.get(0), runs.get(1), "same seed, same failures (seed " + seed + ")");
        int n = runs.get(0).size();
        assertTrue(n > 300 && n < 500, "about 20% of 2000 fail, got " + n + " (seed " + seed + ")");
        try (Disk disk = Disk.auto(4 << 20)) {
            disk.add(rule("type", "error", "ops", "read", "probability", 0.2, "seed", seed + 1));
            assertTrue(!failingReads(disk, 2000).equals(runs.get(0)), "another seed, other failures");
        }
    }

    @Test
    void timeWindowAndExpiry() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "error", "ops", "read", "start-ms", 100, "duration-ms", 50));
            FaultRule r = disk.faults().rules().getFirst();
            disk.read(0, 512);
            assertEquals("waiting", r.state(disk.faults().time()));
            disk.time.advance(Duration.ofMillis(100));
            assertThrows(DeviceException.class, () -> disk.read(0, 512));
            assertEquals("active", r.state(disk.faults().time()));
            disk.time.advance(Duration.ofMillis(49));
            assertThrows(DeviceException.class, () -> disk.read(0, 512));
            disk.time.advance(Duration.ofMillis(1));
            disk.read(0, 512);
            assertEquals("expired", r.state(disk.faults().time()));
            disk.time.advance(Duration.ofDays(1));
            disk.read(0, 512);
            assertEquals(2, r.fired());
        }
    }

    @Test
    void cycleRestsThenActsRepeatedly() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.add(rule("type", "error", "ops", "read", "cycle-off-ms", 30, "cycle-on-ms", 10));
            StringBuilder seen = new StringBuilder();
            for (int ms = 0; ms < 80; ms += 5) {
                try {
                    disk.read(0, 512);
                    seen.append('.');
                } catch (DeviceException e) {
                    seen.append('X');
                }
                disk.time.advance(Duration.ofMillis(5));
            }
            assertEquals("......XX......XX", seen.toString());
        }
    }

    @Test
    void oneConnectionOnly() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "error", "connection", 7));
            disk.read(0, 512); // an in-process caller has no connection
            disk.read(0, 512, 8, false);
            assertThrows(DeviceException.class, () -> disk.read(0, 512, 7, false));
            List<Object> connections =
                    disk.faultEntries().stream().map(e -> e.get("connection")).toList();
            assertEquals(List.of(7L), connections);
        }
    }

    @Test
    void aRequestSeesTheOldRuleSetOrTheNewOneNeverHalf() throws Exception {
        // Two rules zero one half each: a read sees both halves zeroed or neither.
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.write(0, Disk.filled(1024, 0xff));
            Thread changer = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 2000; i++) {
                    disk.add(
                            rule(
                                    "type", "corrupt", "mode", "zero", "bytes", 512, "offset", 0, "length", 512,
                                    "events", false),
                            rule(
                                    "type", "corrupt", "mode", "zero", "bytes", 512, "offset", 512, "length", 512,
                                    "events", false));
                    disk.faults().clear();
                }
            });
            int both = 0;
            int neither = 0;
            while (changer.isAlive() || both + neither < 100) {
                ByteBuffer b = ByteBuffer.allocate(1024);
                Io.read(disk.device(), 0, b);
                boolean first = b.get(0) == 0;
                boolean second = b.get(512) == 0;
                assertEquals(first, second, "half a rule set seen");
                if (first) {
                    both++;
                } else {
                    neither++;
                }
            }
            changer.join();
            assertTrue(both + neither >= 100);
        }
    }
}
