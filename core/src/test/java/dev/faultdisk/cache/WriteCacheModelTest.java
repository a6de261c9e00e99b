package dev.faultdisk.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded model test, one thread: several simulated connections, each with its own seeded stream
 * of requests, interleaved by a seeded scheduler on one shared cache. A byte-exact model tracks
 * what reads must return, what is durable (flushed or FUA) and what is dirty, through switches of
 * the cache mode (writeback, writethrough, lying-flush) and armed deferred flush errors; every power failure
 * is checked against it: the bytes the report calls lost hold their durable value, every other
 * byte its last acknowledged value, and in drop-all mode exactly the durable image remains.
 */
class WriteCacheModelTest {
    private static final int SIZE = 64 * 1024;
    private static final int CONNECTIONS = 4;
    private static final int OPS = 3000;
    private static final long[] SEEDS = {1, 2, 3, 0x5eed, 20180328};

    @TempDir
    Path tmp;

    @Test
    void interleavedConnectionsAgainstAByteModel() throws IOException {
        for (long seed : SEEDS) {
            List<PowerFailReport> first = run(seed);
            List<PowerFailReport> again = run(seed);
            assertEquals(first, again, "same seed, same history, same reports (seed " + seed + ")");
            assertTrue(first.size() >= 5, "seed " + seed + " cut the power only " + first.size() + " times");
            assertTrue(first.stream().mapToLong(PowerFailReport::bytesLost).sum() > 0, "seed " + seed);
        }
    }

    /** Runs one seeded history and returns its power-fail reports. */
    private List<PowerFailReport> run(long seed) throws IOException {
        Model model = new Model();
        List<PowerFailReport> reports = new ArrayList<>();
        SplittableRandom scheduler = new SplittableRandom(seed);
        SplittableRandom[] connections = new SplittableRandom[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++) {
            connections[i] = scheduler.split();
        }
        try (WriteCacheDevice cache = new WriteCacheDevice(
                new MemoryDevice(SIZE),
                CacheMode.WRITEBACK,
                new WriteCacheDeviceTest.FakeClock(),
                tmp,
                new PowerSwitch())) {
            for (int step = 0; step < OPS; step++) {
                int c = scheduler.nextInt(CONNECTIONS);
                try {
                    op(connections[c], cache, model, reports);
                } catch (AssertionError | IOException e) {
                    fail("seed " + seed + ", step " + step + ", connection " + c + ": " + e.getMessage(), e);
                }
            }
        }
        return reports;
    }

    private void op(SplittableRandom r, WriteCacheDevice cache, Model model, List<PowerFailReport> reports)
            throws IOException {
        int pick = r.nextInt(100);
        long[] range = range(r);
        long off = range[0];
        int len = (int) range[1];
        if (pick < 38) {
            boolean fua = r.nextInt(5) == 0;
            byte[] data = new byte[len];
            r.nextBytes(data);
            Io.write(cache, off, ByteBuffer.wrap(data), fua);
            model.write(off, data, fua);
        } else if (pick < 47) {
            boolean fua = r.nextInt(5) == 0;
            Io.writeZeroes(cache, off, len, r.nextBoolean(), r.nextBoolean(), fua);
            model.write(off, new byte[len], fua);
        } else if (pick < 53) {
            boolean fua = r.nextInt(5) == 0;
            Io.trim(cache, off, len, fua);
            model.write(off, new byte[len], fua); // the cache and the memory medium both read trimmed bytes as zero
        } else if (pick < 62) {
            if (model.deferredError) {
                DeviceException e = assertThrows(DeviceException.class, () -> Io.flush(cache));
                assertEquals(Errno.EIO, e.errno());
            } else {
                Io.flush(cache);
            }
            model.flush();
        } else if (pick < 66) {
            CacheMode mode = r.nextInt(3) == 0 ? CacheMode.values()[r.nextInt(3)] : CacheMode.WRITEBACK;
            assertEquals(model.setMode(mode), cache.setMode(mode), "disarmed by the switch to " + mode);
        } else if (pick < 67) {
            cache.armDeferredFlushError();
            model.deferredError = true;
        } else if (pick < 85) {
            byte[] got = read(cache, off, len);
            assertRange(model.current, off, got, "read");
            checkExtents(cache, model, off, len);
        } else if (pick < 95) {
            checkStatus(cache, model);
        } else {
            PowerFailMode mode = PowerFailMode.values()[r.nextInt(PowerFailMode.values().length)];
            long seed = r.nextLong();
            byte[] before = model.current.clone();
            long dirtyBefore = model.dirtyBytes();
            PowerFailReport report = cache.power().powerFail(mode, seed);
            byte[] after = read(cache, 0, SIZE);
            checkPowerFail(report, before, dirtyBefore, after, model);
            reports.add(report);
            model.restart(after);
        }
    }

    /** Offsets and lengths: mostly sector-aligned, some not, some spanning much of the device. */
    private static long[] range(SplittableRandom r) {
        int len = switch (r.nextInt(4)) {
            case 0 -> 1 + r.nextInt(1024);
            case 1 -> 512 * (1 + r.nextInt(8));
            case 2 -> 4096 * (1 + r.nextInt(4));
            default -> 1 + r.nextInt(SIZE / 4);
        };
        long off = r.nextBoolean() ? r.nextInt((SIZE - len) / 512 + 1) * 512L : r.nextInt(SIZE - len + 1);
        return new long[] {off, len};
    }

    private static void checkPowerFail(
            PowerFailReport report, byte[] before, long dirtyBefore, byte[] after, Model model) {
        String what = report.summary();
        assertEquals(dirtyBefore, report.dirtyBytes(), what);
        assertEquals(report.dirtyBytes(), report.bytesKept() + report.bytesLost(), what);
        long lostSum = 0;
        boolean[] lost = new boolean[SIZE];
        long lastEnd = -1;
        for (ByteRange r : report.lostRanges()) {
            assertTrue(r.offset() > lastEnd, "ranges sorted and merged: " + report.lostRanges());
            lastEnd = r.end();
            lostSum += r.length();
            for (long b = r.offset(); b < r.end(); b++) {
                if (!model.dirty[(int) b]) {
                    fail("byte " + b + " reported lost but was durable; " + what);
                }
                lost[(int) b] = true;
            }
        }
        assertEquals(report.bytesLost(), lostSum, what);
        for (int b = 0; b < SIZE; b++) {
            byte expected = lost[b] ? model.durable[b] : before[b];
            if (after[b] != expected) {
                fail("byte " + b + " is " + after[b] + ", expected " + expected
                        + (lost[b] ? " (lost: durable value)" : " (not lost: last acknowledged value)") + "; " + what);
            }
        }
        if (report.mode() == PowerFailMode.DROP_ALL) {
            assertTrue(Arrays.equals(model.durable, after), "drop-all leaves exactly the durable image");
            assertEquals(report.dirtyWrites(), report.writesLost(), what);
        }
        if (report.mode() == PowerFailMode.RANDOM_SUBSET) {
            assertEquals(0, report.writesTorn(), what);
        }
    }

    private static void checkStatus(WriteCacheDevice cache, Model model) {
        CacheStatus s = cache.status();
        assertEquals(model.dirtyBytes(), s.dirtyBytes(), "dirty bytes");
        assertEquals(model.dirtyRanges(), s.dirtyRanges(), "dirty ranges");
        List<ByteRange> ranges = cache.dirtyRanges();
        assertEquals(model.dirtyRanges(), ranges.size());
        for (ByteRange r : ranges) {
            for (long b = r.offset(); b < r.end(); b++) {
                if (!model.dirty[(int) b]) {
                    fail("byte " + b + " reported dirty but is durable");
                }
            }
        }
    }

    /** Block status must never call a byte zero that is not. */
    private static void checkExtents(WriteCacheDevice cache, Model model, long off, int len) throws IOException {
        long[] pos = {off};
        Io.extents(cache, off, len, (l, flags) -> {
            if ((flags & ExtentSink.ZERO) != 0) {
                for (long b = pos[0]; b < Math.min(off + len, pos[0] + l); b++) {
                    if (model.current[(int) b] != 0) {
                        fail("extent says zero at byte " + b);
                    }
                }
            }
            pos[0] += l;
            return true;
        });
        assertTrue(pos[0] > off, "at least one extent");
    }

    private static byte[] read(WriteCacheDevice cache, long off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        Io.read(cache, off, b);
        return b.array();
    }

    private static void assertRange(byte[] image, long off, byte[] got, String what) {
        for (int i = 0; i < got.length; i++) {
            if (got[i] != image[(int) off + i]) {
                fail(what + " at byte " + (off + i) + ": got " + got[i] + ", model " + image[(int) off + i]);
            }
        }
    }

    /**
     * What reads return, what is durable and which bytes are dirty, for each cache mode: in
     * writethrough every write is durable; in lying-flush FUA and flush do nothing; an armed
     * deferred error makes the next flush throw away every dirty byte.
     */
    private static final class Model {
        final byte[] current = new byte[SIZE];
        final byte[] durable = new byte[SIZE];
        final boolean[] dirty = new boolean[SIZE];
        CacheMode mode = CacheMode.WRITEBACK;
        boolean deferredError;

        void write(long off, byte[] data, boolean fua) {
            boolean durableNow = mode == CacheMode.WRITETHROUGH || (fua && mode == CacheMode.WRITEBACK);
            System.arraycopy(data, 0, current, (int) off, data.length);
            if (durableNow) {
                System.arraycopy(data, 0, durable, (int) off, data.length);
            }
            Arrays.fill(dirty, (int) off, (int) off + data.length, !durableNow);
        }

        void flush() {
            if (deferredError) {
                deferredError = false;
                System.arraycopy(durable, 0, current, 0, SIZE); // the dirty bytes were never written
            } else if (mode == CacheMode.LYING_FLUSH) {
                return;
            } else {
                System.arraycopy(current, 0, durable, 0, SIZE);
            }
            Arrays.fill(dirty, false);
        }

        /** Returns whether an armed deferred error was disarmed. */
        boolean setMode(CacheMode m) {
            boolean disarmed = false;
            if (m == CacheMode.WRITETHROUGH) {
                System.arraycopy(current, 0, durable, 0, SIZE); // a disk persists its cache when it is turned off
                Arrays.fill(dirty, false);
                disarmed = deferredError; // and has no cache left whose write-back could fail
                deferredError = false;
            }
            mode = m;
            return disarmed;
        }

        void restart(byte[] image) {
            System.arraycopy(image, 0, current, 0, SIZE);
            System.arraycopy(image, 0, durable, 0, SIZE);
            Arrays.fill(dirty, false);
        }

        long dirtyBytes() {
            long n = 0;
            for (boolean d : dirty) {
                n += d ? 1 : 0;
            }
            return n;
        }

        int dirtyRanges() {
            int n = 0;
            for (int b = 0; b < SIZE; b++) {
                if (dirty[b] && (b == 0 || !dirty[b - 1])) {
                    n++;
                }
            }
            return n;
        }
    }
}
