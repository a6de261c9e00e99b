package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import dev.faultdisk.wire.Errno;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Torn, lost and misdirected writes: what persists, and what the writer is told. */
class WriteFaultsTest {

    @Test
    void tornWriteKeepsTheFirstSectorsThenFails() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "torn-write", "keep-sectors", 2));
            DeviceException e = assertThrows(DeviceException.class, () -> disk.write(4096, Disk.filled(4096, 7)));
            assertEquals(Errno.EIO, e.errno());
            assertEquals(4096 + 1024, e.offset());
            disk.faults().clear();
            assertArrayEquals(Disk.filled(1024, 7), disk.read(4096, 1024));
            assertArrayEquals(new byte[3072], disk.read(4096 + 1024, 3072));
            Map<String, Object> details = castMap(disk.faultEntries().getFirst().get("details"));
            assertEquals(1024L, details.get("kept-bytes"));
            assertEquals(8L, details.get("sectors"));
        }
    }

    @Test
    void tornWriteCanReportSuccessAndCountsFromTheFirstSectorsStart() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "torn-write", "keep-sectors", 1, "result", "success"));
            disk.write(100, Disk.filled(1000, 4)); // covers sectors 0-2; keeps up to the end of sector 0
            disk.faults().clear();
            assertArrayEquals(Disk.filled(412, 4), disk.read(100, 412));
            assertArrayEquals(new byte[588], disk.read(512, 588));
        }
    }

    @Test
    void tornWriteWithoutACountKeepsFewerSectorsThanTheWriteHas() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "torn-write", "result", "success", "seed", 3));
            for (int i = 0; i < 50; i++) {
                disk.write(0, Disk.filled(8192, i + 1));
                disk.faults().clear();
                byte[] got = disk.read(0, 8192);
                disk.add(rule("type", "torn-write", "result", "success", "seed", 3 + i));
                int kept = 0;
                while (kept < 8192 && got[kept] == (byte) (i + 1)) {
                    kept++;
                }
                assertEquals(0, kept % 512, "torn at a sector boundary");
                assertEquals(true, kept < 8192, "something was lost");
            }
        }
    }

    @Test
    void lostWriteIsAcknowledgedAndNeverPersisted() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.write(0, Disk.filled(4096, 1));
            disk.add(rule("type", "lost-write", "ops", java.util.List.of("write", "trim", "write-zeroes"), "nth", 2));
            disk.write(0, Disk.filled(4096, 2)); // the first matching write persists
            disk.write(0, Disk.filled(4096, 3)); // the second is lost
            Io.flush(disk.device());
            disk.faults().clear();
            assertArrayEquals(Disk.filled(4096, 2), disk.read(0, 4096));
            assertEquals(
                    "lost: acknowledged, not persisted",
                    disk.faultEntries().getFirst().get("action"));
        }
    }

    @Test
    void misdirectedWriteLandsElsewhereAndLeavesTheTargetAlone() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.write(0, Disk.filled(4096, 1));
            disk.add(rule("type", "misdirected-write", "shift", 65536));
            disk.write(0, Disk.filled(4096, 2));
            disk.faults().clear();
            assertArrayEquals(Disk.filled(4096, 1), disk.read(0, 4096), "the intended place keeps its data");
            assertArrayEquals(Disk.filled(4096, 2), disk.read(65536, 4096), "the write landed 64 KiB later");
            Map<String, Object> details = castMap(disk.faultEntries().getFirst().get("details"));
            assertEquals(Map.of("intended-offset", 0L, "actual-offset", 65536L), details);

            disk.add(rule("type", "misdirected-write", "target", (1 << 20) - 1024));
            disk.write(8192, Disk.filled(4096, 5)); // would run past the end: moved back to fit
            disk.faults().clear();
            assertArrayEquals(Disk.filled(4096, 5), disk.read((1 << 20) - 4096, 4096));
            assertArrayEquals(new byte[4096], disk.read(8192, 4096));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object o) {
        return (Map<String, Object>) o;
    }
}
