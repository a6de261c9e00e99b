package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The same I/O sequence against the same rules and seeds meets the same faults: the journals are equal. */
class ReplayTest {
    private static final int SIZE = 4 << 20;

    private record Run(List<Map<String, Object>> journal, byte[] image, List<String> outcomes) {}

    private static Run run(long engineSeed, long ioSeed) throws IOException {
        try (Disk disk = Disk.auto(SIZE, engineSeed)) {
            // No rule names a seed: each derives its own from the engine's seed.
            disk.add(
                    rule("type", "error", "probability", 0.03, "errno", "ENOSPC"),
                    rule("type", "corrupt", "probability", 0.05, "bits", 3),
                    rule("type", "corrupt", "ops", "write", "mode", "garbage", "bytes", 32, "probability", 0.03),
                    rule("type", "torn-write", "probability", 0.03),
                    rule("type", "lost-write", "probability", 0.03),
                    rule("type", "misdirected-write", "probability", 0.02),
                    rule("type", "bad-sector", "count", 4, "grow-probability", 0.01),
                    rule(
                            "type",
                            "delay",
                            "distribution",
                            "lognormal",
                            "median-ms",
                            2,
                            "p99-ms",
                            40,
                            "probability",
                            0.2),
                    rule("type", "throttle", "ops-per-second", 100, "ops", "write"),
                    rule("type", "disconnect", "ops", "flush", "probability", 0.05));
            SplittableRandom io = new SplittableRandom(ioSeed);
            List<String> outcomes = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                long offset = 512L * io.nextInt(SIZE / 512 - 64);
                int length = 512 * (1 + io.nextInt(32));
                try {
                    switch (io.nextInt(10)) {
                        case 0, 1, 2, 3 -> Io.read(disk.device(), offset, ByteBuffer.allocate(length));
                        case 4, 5, 6 -> {
                            byte[] data = new byte[length];
                            io.nextBytes(data);
                            Io.write(disk.device(), offset, ByteBuffer.wrap(data), io.nextBoolean());
                        }
                        case 7 -> Io.flush(disk.device());
                        case 8 -> Io.trim(disk.device(), offset, length, false);
                        default -> Io.writeZeroes(disk.device(), offset, length, false, false, false);
                    }
                    outcomes.add("ok");
                } catch (DeviceException e) {
                    outcomes.add(e.getClass().getSimpleName() + " " + e.errno() + " " + e.offset());
                }
            }
            disk.faults().clear();
            return new Run(disk.journal.entries(0, Integer.MAX_VALUE, null), disk.read(0, SIZE), outcomes);
        }
    }

    @Test
    void sameSequenceSameRulesSameSeedsSameFaults() throws Exception {
        long engineSeed = new SplittableRandom().nextLong();
        Run a = run(engineSeed, 7);
        Run b = run(engineSeed, 7);
        String seed = " (engine seed " + engineSeed + ")";
        long faults =
                a.journal.stream().filter(e -> "fault".equals(e.get("event"))).count();
        assertTrue(faults > 500, "plenty of faults: " + faults + seed);
        for (String type : List.of(
                "error",
                "corrupt",
                "torn-write",
                "lost-write",
                "misdirected-write",
                "bad-sector",
                "delay",
                "throttle",
                "disconnect")) {
            assertTrue(a.journal.stream().anyMatch(e -> type.equals(e.get("type"))), type + " fired" + seed);
        }
        assertEquals(a.journal.size(), b.journal.size(), seed);
        for (int i = 0; i < a.journal.size(); i++) {
            assertEquals(a.journal.get(i), b.journal.get(i), "journal entry " + i + seed);
        }
        assertEquals(a.outcomes, b.outcomes, seed);
        assertArrayEquals(a.image, b.image, "same bytes on the disk" + seed);

        Run other = run(engineSeed + 1, 7);
        assertNotEquals(a.journal, other.journal, "another seed, other faults");
        assertTrue(!Arrays.equals(a.image, other.image));
    }
}
