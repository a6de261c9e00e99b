package dev.faultdisk.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.DeviceException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Presets compose ordinary rules into named profiles. */
class PresetsTest {

    @Test
    void limpingDiskIsSlowNotFailed() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            List<FaultRule> rules = disk.faults()
                    .addPreset(
                            "limping-disk",
                            Map.of("median-ms", 20, "p99-ms", 200, "bytes-per-second", "1M", "seed", 5),
                            "params");
            assertEquals(
                    List.of("delay", "throttle"),
                    rules.stream().map(r -> r.type().name()).toList());
            assertTrue(rules.stream().allMatch(r -> r.label().equals("limping-disk")));
            assertEquals(List.of(5L, 6L), rules.stream().map(FaultRule::seed).toList());
            for (int i = 0; i < 200; i++) {
                disk.read(0, 4096);
            }
            double perRead = disk.time.elapsed().toNanos() / 1e6 / 200;
            assertTrue(perRead > 15 && perRead < 60, "about the log-normal's mean: " + perRead + " ms");
        }
    }

    @Test
    void dyingDiskGrowsBadSectorsAndSlowsDown() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.faults()
                    .addPreset(
                            "dying-disk",
                            Map.of(
                                    "bad-sectors",
                                    4,
                                    "grow-probability",
                                    0.2,
                                    "error-probability",
                                    0,
                                    "slow-to-ms",
                                    100,
                                    "over-ms",
                                    1000,
                                    "seed",
                                    1),
                            "params");
            int failed = 0;
            for (int i = 0; i < 100; i++) {
                try {
                    disk.read(0, 1 << 20);
                } catch (DeviceException e) {
                    failed++;
                }
            }
            assertEquals(100, failed, "four bad sectors from the start");
            Map<String, Object> state = disk.faults().rules().getFirst().fault().state();
            assertTrue((Integer) state.get("bad-sectors") > 10, "grew: " + state.get("bad-sectors"));
            disk.time.advance(Duration.ofSeconds(2)); // the ramp reached its end: each request now waits 100 ms
            Duration before = disk.time.elapsed();
            try {
                disk.read(0, 512);
            } catch (DeviceException ignored) {
                // a bad sector at 0 is possible
            }
            assertEquals(100, disk.time.elapsed().minus(before).toMillis());
        }
    }

    @Test
    void flakyDiskAlternatesUpAndDown() throws Exception {
        try (Disk disk = Disk.manual(1 << 20)) {
            disk.faults().addPreset("flaky-disk", Map.of("up-ms", 100, "down-ms", 50, "mode", "drop-writes"), "params");
            disk.write(0, Disk.filled(512, 1));
            disk.time.advance(Duration.ofMillis(120));
            disk.write(0, Disk.filled(512, 2)); // down: dropped
            assertArrayEquals(Disk.filled(512, 1), disk.read(0, 512), "reads work while down");
            disk.time.advance(Duration.ofMillis(40));
            disk.write(0, Disk.filled(512, 3)); // up again at 150 ms
            assertArrayEquals(Disk.filled(512, 3), disk.read(0, 512));

            disk.faults().clear();
            disk.faults().addPreset("flaky-disk", Map.of("up-ms", 0, "down-ms", 50), "params");
            assertThrows(DeviceException.class, () -> disk.read(0, 512), "mode error: everything fails while down");
        }
    }

    @Test
    void badPresetInputAppliesNothing() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            FaultRuleException e = assertThrows(
                    FaultRuleException.class, () -> disk.faults().addPreset("sad-disk", Map.of(), "params"));
            assertTrue(e.getMessage()
                    .startsWith("unknown preset 'sad-disk' (known: limping-disk, dying-disk, flaky-disk)"));
            e = assertThrows(
                    FaultRuleException.class, () -> disk.faults().addPreset("flakey-disk", Map.of(), "params"));
            assertEquals(
                    "unknown preset 'flakey-disk' (did you mean flaky-disk? known: limping-disk, dying-disk, flaky-disk)",
                    e.getMessage());
            e = assertThrows(
                    FaultRuleException.class,
                    () -> disk.faults().addPreset("flaky-disk", Map.of("mode", "melt"), "params"));
            assertTrue(e.getMessage().startsWith("params.mode must be one of error,"), e.getMessage());
            e = assertThrows(
                    FaultRuleException.class,
                    () -> disk.faults().addPreset("limping-disk", Map.of("p99-ms", 200, "speed", 3), "params"));
            assertTrue(
                    e.getMessage().startsWith("params.speed is not a parameter of the limping-disk preset"),
                    e.getMessage());
            e = assertThrows(
                    FaultRuleException.class,
                    () -> disk.faults().addPreset("limping-disk", Map.of("median-ms", 300, "p99-ms", 200), "params"));
            assertTrue(
                    e.getMessage().startsWith("limping-disk[0].p99-ms must be greater than median-ms"), e.getMessage());
            e = assertThrows(
                    FaultRuleException.class,
                    () -> disk.faults().addPreset("dying-disk", Map.of("offset", 2 << 20), "params"));
            assertTrue(e.getMessage().contains("past the end of the export"), e.getMessage());
            assertEquals(List.of(), disk.faults().rules());
        }
    }
}
