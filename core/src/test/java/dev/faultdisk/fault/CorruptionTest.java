package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import dev.faultdisk.wire.Errno;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Corruption on read and on write, recorded exactly; bad sectors that stay bad until rewritten and grow. */
class CorruptionTest {
    private static final HexFormat HEX = HexFormat.of();

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Applies the journal's recorded changes to {@code original}, checking each "before" on the way. */
    @SuppressWarnings("unchecked")
    private static byte[] replay(byte[] original, long base, List<Map<String, Object>> entries) {
        byte[] out = original.clone();
        for (Map<String, Object> e : entries) {
            for (Map<String, Object> c :
                    (List<Map<String, Object>>) ((Map<String, Object>) e.get("details")).get("changes")) {
                int at = (int) ((Long) c.get("offset") - base);
                byte[] before = HEX.parseHex((String) c.get("before"));
                byte[] after = HEX.parseHex((String) c.get("after"));
                assertArrayEquals(before, java.util.Arrays.copyOfRange(out, at, at + before.length), "recorded before");
                System.arraycopy(after, 0, out, at, after.length);
            }
        }
        return out;
    }

    @Test
    void readCorruptionChangesWhatIsReturnedNotWhatIsStoredAndIsRecordedExactly() throws Exception {
        for (String mode : List.of("flip", "zero", "garbage")) {
            try (Disk disk = Disk.auto(1 << 20)) {
                byte[] data = randomBytes(8192, 1);
                disk.write(4096, data);
                Map<String, Object> corrupt =
                        rule("type", "corrupt", "mode", mode, "offset", 4096 + 1000, "length", 3000);
                corrupt.put(mode.equals("flip") ? "bits" : "bytes", mode.equals("flip") ? 5 : 100);
                disk.add(corrupt);
                byte[] got = disk.read(4096, 8192);
                assertFalse(java.util.Arrays.equals(data, got), mode + " changed the data returned");
                assertArrayEquals(data, disk.stored(4096, 8192), mode + " left the stored data alone");
                assertArrayEquals(
                        got, replay(data, 4096, disk.faultEntries()), mode + ": the journal says exactly what changed");
                for (int i = 0; i < 8192; i++) {
                    if (data[i] != got[i]) {
                        assertTrue(i >= 1000 && i < 4000, mode + ": only inside the rule's range, byte " + i);
                    }
                }
                if (mode.equals("flip")) {
                    int bits = 0;
                    for (int i = 0; i < data.length; i++) {
                        bits += Integer.bitCount((data[i] ^ got[i]) & 0xff);
                    }
                    assertEquals(5, bits);
                }
            }
        }
    }

    @Test
    void writeCorruptionPersistsOtherDataSilentlyAndLeavesTheCallersBufferAlone() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.add(rule("type", "corrupt", "ops", "write", "mode", "garbage", "bytes", 64));
            byte[] data = randomBytes(4096, 2);
            ByteBuffer src = ByteBuffer.wrap(data.clone());
            Io.write(disk.device(), 8192, src, false);
            assertArrayEquals(data, src.array(), "the caller's buffer is untouched");
            disk.faults().clear();
            byte[] stored = disk.read(8192, 4096);
            assertFalse(java.util.Arrays.equals(data, stored));
            assertArrayEquals(stored, replay(data, 8192, disk.faultEntries()));
            Map<String, Object> e = disk.faultEntries().getFirst();
            assertEquals("d", e.get("device"));
            assertTrue(e.get("action").toString().startsWith("corrupted write: garbage in 64 bytes at "), e.toString());
        }
    }

    @Test
    void badSectorsFailReadsUntilRewrittenWhole() throws Exception {
        try (Disk disk = Disk.auto(1 << 20)) {
            disk.write(0, Disk.filled(8192, 3));
            disk.add(rule("type", "bad-sector", "sectors", List.of(4L, 5L)));
            assertArrayEquals(Disk.filled(2048, 3), disk.read(0, 2048), "sectors 0-3 are fine");
            DeviceException e = assertThrows(DeviceException.class, () -> disk.read(1024, 4096));
            assertEquals(Errno.EIO, e.errno());
            assertEquals(2048, e.offset(), "fails at the first bad byte");
            assertThrows(DeviceException.class, () -> disk.read(2560, 100), "stays bad");
            DeviceException partial = assertThrows(DeviceException.class, () -> disk.write(2048 + 100, new byte[100]));
            assertEquals(2048 + 100, partial.offset(), "a partial rewrite of a bad sector fails");
            disk.write(2048, Disk.filled(512, 8)); // sector 4 rewritten whole: remapped
            assertArrayEquals(Disk.filled(512, 8), disk.read(2048, 512));
            assertThrows(DeviceException.class, () -> disk.read(2048, 1024), "sector 5 still bad");
            Io.writeZeroes(disk.device(), 2560, 512, false, false, false);
            assertArrayEquals(new byte[512], disk.read(2560, 512));
            assertEquals(
                    Map.of("bad-sectors", 0, "sectors", List.of()),
                    disk.faults().rules().getFirst().fault().state());
        }
    }

    @Test
    void badSectorsGrowFromTheSeed() throws Exception {
        List<Object> first = null;
        for (int run = 0; run < 2; run++) {
            try (Disk disk = Disk.auto(1 << 20)) {
                disk.add(rule(
                        "type",
                        "bad-sector",
                        "count",
                        1,
                        "grow-probability",
                        0.5,
                        "seed",
                        99,
                        "offset",
                        0,
                        "length",
                        65536));
                int failures = 0;
                for (int i = 0; i < 200; i++) {
                    try {
                        disk.read(0, 65536);
                    } catch (DeviceException e) {
                        failures++;
                    }
                }
                assertEquals(200, failures, "the range holds a bad sector from the start");
                Map<String, Object> state =
                        disk.faults().rules().getFirst().fault().state();
                int bad = (Integer) state.get("bad-sectors");
                assertTrue(bad > 40 && bad <= 101, "grew to " + bad);
                List<Object> sectors = List.copyOf((List<?>) state.get("sectors"));
                for (Object s : sectors) {
                    assertTrue((Long) s >= 0 && (Long) s < 128, "inside the rule's range: " + s);
                }
                if (first == null) {
                    first = sectors;
                } else {
                    assertEquals(first, sectors, "same seed, same growth");
                }
            }
        }
    }
}
