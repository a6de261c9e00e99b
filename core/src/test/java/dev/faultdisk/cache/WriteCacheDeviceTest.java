package dev.faultdisk.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteCacheDeviceTest {
    private static final int SIZE = 1 << 20;

    @TempDir
    Path tmp;

    private final FakeClock clock = new FakeClock();
    private MemoryDevice medium;
    private WriteCacheDevice cache;

    @BeforeEach
    void open() {
        medium = new MemoryDevice(SIZE);
        cache = new WriteCacheDevice(medium, CacheMode.WRITEBACK, clock, tmp, new PowerSwitch());
    }

    @AfterEach
    void close() throws IOException {
        cache.close();
    }

    @Test
    void writebackKeepsWritesInTheCacheUntilAFlush() throws IOException {
        write(cache, 4096, fill(8192, 0x11), false);
        assertArrayEquals(fill(8192, 0x11), read(cache, 4096, 8192), "reads see the cache");
        assertArrayEquals(new byte[8192], read(medium, 4096, 8192), "not durable before a flush");
        assertEquals(8192, cache.status().dirtyBytes());
        Io.flush(cache);
        assertArrayEquals(fill(8192, 0x11), read(medium, 4096, 8192), "durable after the flush");
        CacheStatus s = cache.status();
        assertEquals(0, s.dirtyBytes());
        assertEquals(0, s.dirtyRanges());
        assertEquals(1, s.flushes());
    }

    @Test
    void fuaWriteIsDurableOnReturnAndSupersedesOlderCachedBytes() throws IOException {
        write(cache, 0, fill(4096, 0x01), false);
        write(cache, 1024, fill(1024, 0x02), true);
        byte[] expected = fill(4096, 0x01);
        Arrays.fill(expected, 1024, 2048, (byte) 0x02);
        assertArrayEquals(expected, read(cache, 0, 4096));
        byte[] durable = new byte[4096];
        Arrays.fill(durable, 1024, 2048, (byte) 0x02);
        assertArrayEquals(durable, read(medium, 0, 4096), "only the FUA write is durable");
        assertEquals(3072, cache.status().dirtyBytes());
        assertEquals(2, cache.status().dirtyRanges());
        PowerFailReport report = cache.power().powerFail(PowerFailMode.DROP_ALL, 1);
        assertEquals(List.of(new ByteRange(0, 1024), new ByteRange(2048, 2048)), report.lostRanges());
        assertArrayEquals(durable, read(cache, 0, 4096));
    }

    /**
     * A cache past its budget of dirty pieces writes them all back, as a full drive cache does: a
     * client that never flushes cannot grow the heap without end. A power cut then loses only
     * what came after.
     */
    @Test
    void aCachePastItsBudgetOfDirtyPiecesWritesThemAllBack() throws IOException {
        cache.close();
        cache = new WriteCacheDevice(medium, CacheMode.LYING_FLUSH, clock, tmp, new PowerSwitch(), 10);
        byte[] durable = new byte[20];
        for (int i = 0; i < 10; i++) {
            write(cache, 2L * i, new byte[] {(byte) (i + 1)}, false); // a byte apart: a piece each
            durable[2 * i] = (byte) (i + 1);
        }
        assertEquals(10, cache.status().dirtyWrites());
        assertArrayEquals(new byte[20], read(medium, 0, 20), "within the budget all is in the cache");
        Io.writeZeroes(cache, 4096, 1, true, false, false); // the eleventh piece
        assertEquals(1, cache.status().fullWriteBacks());
        assertEquals(0, cache.status().dirtyWrites());
        assertArrayEquals(durable, read(medium, 0, 20), "every piece written back to the medium");
        write(cache, 100, fill(8, 0x77), false);
        PowerFailReport report = cache.power().powerFail(PowerFailMode.DROP_ALL, 3);
        assertEquals(1, report.dirtyWrites(), "only what came after the write-back is lost");
        assertArrayEquals(durable, read(cache, 0, 20));
        assertArrayEquals(new byte[8], read(cache, 100, 8));
        assertThrows(
                IllegalArgumentException.class,
                () -> new WriteCacheDevice(medium, CacheMode.WRITEBACK, clock, tmp, new PowerSwitch(), 0));
    }

    /**
     * A torn power cut over a zero of nearly 16 TiB (one request with NBD's extended headers)
     * tears it in at most 65,536 units, not 34 billion sectors: the report comes at once, with
     * the zero torn and its bytes split between kept and lost.
     */
    @Test
    void aTornPowerCutOverAZeroOfTerabytesTearsItInBoundedUnits() throws IOException {
        cache.close();
        MemoryDevice big = new MemoryDevice(16L << 40);
        cache = new WriteCacheDevice(big, CacheMode.WRITEBACK, clock, tmp, new PowerSwitch());
        long length = (16L << 40) - (8L << 30);
        Io.writeZeroes(cache, 4L << 30, length, false, false, false);
        PowerFailReport report = cache.power().powerFail(PowerFailMode.TORN_WRITES, 11);
        assertEquals(1, report.dirtyWrites());
        assertEquals(1, report.writesTorn(), "kept " + report.bytesKept() + ", lost " + report.bytesLost());
        assertEquals(length, report.bytesKept() + report.bytesLost());
        assertTrue(report.bytesKept() > 0 && report.bytesLost() > 0);
        assertTrue(
                report.lostRanges().size() <= PowerCut.MAX_TEAR_UNITS,
                "lost ranges: " + report.lostRanges().size());
    }

    @Test
    void writethroughWritesReachTheMediumAtOnce() throws IOException {
        cache.setMode(CacheMode.WRITETHROUGH);
        write(cache, 0, fill(512, 0x33), false);
        assertArrayEquals(fill(512, 0x33), read(medium, 0, 512));
        assertEquals(0, cache.status().dirtyBytes());
        PowerFailReport report = cache.power().powerFail(PowerFailMode.DROP_ALL, 7);
        assertEquals(0, report.bytesLost());
        assertArrayEquals(fill(512, 0x33), read(cache, 0, 512));
    }

    @Test
    void switchingToWritethroughPersistsTheCache() throws IOException {
        write(cache, 0, fill(512, 0x44), false);
        cache.setMode(CacheMode.WRITETHROUGH);
        assertArrayEquals(fill(512, 0x44), read(medium, 0, 512));
        assertEquals(0, cache.status().dirtyBytes());
        assertEquals(CacheMode.WRITETHROUGH, cache.mode());
    }

    @Test
    void cachedTrimAndZeroesReadAsZeroAndShowInBlockStatus() throws IOException {
        write(medium, 0, fill(65536 * 2, 0x55), false);
        Io.trim(cache, 0, 4096, false);
        Io.writeZeroes(cache, 8192, 4096, true, true, false); // fast-only is fine: caching is fast
        write(cache, 16384, fill(100, 0x66), false);
        assertArrayEquals(new byte[4096], read(cache, 0, 4096));
        assertArrayEquals(new byte[4096], read(cache, 8192, 4096));
        assertArrayEquals(fill(4096, 0x55), read(medium, 0, 4096), "the medium still has the old data");
        List<long[]> extents = new ArrayList<>();
        Io.extents(cache, 0, 20000, (len, flags) -> {
            extents.add(new long[] {len, flags});
            return true;
        });
        assertEquals(
                List.of("4096:3", "4096:0", "4096:2", "7712:0"),
                extents.stream().map(e -> e[0] + ":" + e[1]).toList());
        Io.flush(cache);
        assertArrayEquals(new byte[4096], read(medium, 0, 4096));
        assertArrayEquals(new byte[4096], read(medium, 8192, 4096));
    }

    @Test
    void statusReportsDirtyBytesRangesWritesAndTheOldestAge() throws IOException {
        write(cache, 0, fill(1000, 1), false);
        clock.advance(Duration.ofSeconds(3));
        write(cache, 5000, fill(1000, 2), false);
        write(cache, 500, fill(1000, 3), false); // joins the first range
        clock.advance(Duration.ofMillis(1500));
        CacheStatus s = cache.status();
        assertEquals(2500, s.dirtyBytes());
        assertEquals(2, s.dirtyRanges());
        assertEquals(3, s.dirtyWrites());
        assertEquals(Duration.ofMillis(4500), s.oldestDirtyAge());
        assertEquals(List.of(new ByteRange(0, 1500), new ByteRange(5000, 1000)), cache.dirtyRanges());
        write(cache, 0, fill(500, 4), true); // FUA replaces what was left of the oldest write
        assertEquals(Duration.ofMillis(1500), cache.status().oldestDirtyAge());
    }

    @Test
    void lyingFlushAcknowledgesAndPersistsNothingAndIgnoresFua() throws IOException {
        cache.setMode(CacheMode.LYING_FLUSH);
        write(cache, 0, fill(4096, 0x77), false);
        write(cache, 8192, fill(4096, 0x78), true);
        Io.flush(cache);
        assertArrayEquals(new byte[4096], read(medium, 0, 4096));
        assertArrayEquals(new byte[4096], read(medium, 8192, 4096), "FUA is ignored too");
        CacheStatus s = cache.status();
        assertEquals(1, s.lyingFlushes());
        assertEquals(0, s.flushes());
        assertEquals(8192, s.dirtyBytes());
        PowerFailReport report = cache.power().powerFail(PowerFailMode.DROP_ALL, 3);
        assertEquals(8192, report.bytesLost());
        assertEquals(2, report.writesLost());
        assertArrayEquals(new byte[4096], read(cache, 0, 4096));
    }

    @Test
    void deferredErrorFailsOneFlushAndDropsWhatItShouldHavePersisted() throws IOException {
        write(cache, 0, fill(4096, 0x01), false);
        Io.flush(cache);
        write(cache, 0, fill(4096, 0x02), false);
        write(cache, 65536, fill(512, 0x03), false);
        cache.armDeferredFlushError();
        assertTrue(cache.status().deferredErrorArmed());
        DeviceException e = assertThrows(DeviceException.class, () -> Io.flush(cache));
        assertEquals(Errno.EIO, e.errno());
        assertArrayEquals(fill(4096, 0x01), read(cache, 0, 4096), "the failed data is gone; the old data shows");
        assertArrayEquals(new byte[512], read(cache, 65536, 512));
        CacheStatus s = cache.status();
        assertFalse(s.deferredErrorArmed());
        assertEquals(1, s.deferredErrors());
        assertEquals(4608, s.bytesDroppedByDeferredErrors());
        assertEquals(0, s.dirtyBytes());
        write(cache, 4096, fill(512, 0x04), false);
        Io.flush(cache); // later flushes succeed
        assertArrayEquals(fill(512, 0x04), read(medium, 4096, 512));
        PowerFailReport report = cache.power().powerFail(PowerFailMode.DROP_ALL, 1);
        assertEquals(0, report.bytesLost());
        assertArrayEquals(fill(4096, 0x01), read(cache, 0, 4096), "the failed data stays lost");
    }

    @Test
    void switchingToWritethroughDisarmsAnArmedFlushErrorAndSaysSo() throws IOException {
        write(cache, 0, fill(4096, 0x05), false);
        cache.armDeferredFlushError();
        assertFalse(cache.setMode(CacheMode.LYING_FLUSH), "a caching mode keeps it armed");
        assertTrue(cache.status().deferredErrorArmed());
        assertTrue(cache.setMode(CacheMode.WRITETHROUGH), "the switch reports the error it disarmed");
        assertFalse(cache.status().deferredErrorArmed());
        assertArrayEquals(fill(4096, 0x05), read(medium, 0, 4096), "the cache was persisted by the switch");
        // Armed, it used to fail the next flush: a writethrough client's next write (FUA) failed with EIO.
        write(cache, 4096, fill(512, 0x06), true);
        Io.flush(cache);
        assertEquals(0, cache.status().deferredErrors());
        assertFalse(cache.setMode(CacheMode.WRITETHROUGH), "nothing armed, nothing to report");
    }

    @Test
    void poweredOffDeviceRefusesEverythingUntilPowerComesBack() throws IOException {
        AtomicInteger listened = new AtomicInteger();
        cache.power().onPowerFail(listened::incrementAndGet);
        write(cache, 0, fill(512, 9), false);
        PowerFailReport report = cache.power().powerOff(PowerFailMode.DROP_ALL, 5);
        assertEquals(512, report.bytesLost());
        assertEquals(1, listened.get());
        assertFalse(cache.status().poweredOn());
        assertShutdown(() -> read(cache, 0, 512));
        assertShutdown(() -> write(cache, 0, fill(512, 1), false));
        assertShutdown(() -> Io.flush(cache));
        assertShutdown(() -> Io.trim(cache, 0, 512, false));
        assertShutdown(() -> Io.writeZeroes(cache, 0, 512, false, false, false));
        assertShutdown(() -> Io.extents(cache, 0, 512, (l, f) -> true));
        assertEquals(
                0, cache.power().powerOff(PowerFailMode.DROP_ALL, 5).bytesLost(), "already off: nothing more lost");
        assertEquals(1, listened.get());
        cache.power().powerOn();
        assertArrayEquals(new byte[512], read(cache, 0, 512));
        assertEquals(6, cache.status().requestsCut());
        assertEquals(1, cache.status().powerFails());
    }

    @Test
    void requestHeldAboveTheCacheAcrossAPowerCutIsRefused() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        BlockDevice holding = new ForwardingBlockDevice(cache) {
            @Override
            public boolean mayBlock() {
                return true; // the BlockDevice contract for any layer that holds requests
            }

            @Override
            public void write(BlockRequest r, ByteBuffer src) throws IOException {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                super.write(r, src);
            }
        };
        PowerGate top = new PowerGate(holding, cache.power());
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                write(top, 0, fill(512, 0x5a), true);
                outcome.set(new AssertionError("write succeeded"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        assertTrue(held.await(5, TimeUnit.SECONDS));
        cache.power().powerFail(PowerFailMode.DROP_ALL, 1);
        release.countDown();
        writer.join(5000);
        DeviceException e = assertInstanceOf(DeviceException.class, outcome.get());
        assertEquals(Errno.ESHUTDOWN, e.errno());
        assertArrayEquals(new byte[512], read(medium, 0, 512), "never applied after the cut");
        write(top, 0, fill(512, 0x5b), true); // a request entering after power-on works
        assertArrayEquals(fill(512, 0x5b), read(medium, 0, 512));
    }

    @Test
    void powerCutLandingBetweenFlushStepsFailsTheFlushAndKeepsWhatWasPersisted() throws Exception {
        CountDownLatch inFirstStep = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        AtomicInteger mediumWrites = new AtomicInteger();
        BlockDevice slowMedium = new ForwardingBlockDevice(medium) {
            @Override
            public void write(BlockRequest r, ByteBuffer src) throws IOException {
                if (mediumWrites.getAndIncrement() == 0) {
                    inFirstStep.countDown();
                    try {
                        proceed.await();
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                super.write(r, src);
            }
        };
        WriteCacheDevice c = new WriteCacheDevice(slowMedium, CacheMode.WRITEBACK, clock, tmp, new PowerSwitch());
        write(c, 0, fill(4096, 0x21), false);
        write(c, 512 * 1024, fill(4096, 0x22), false); // a second range: a second flush step
        AtomicReference<Throwable> flushOutcome = new AtomicReference<>();
        Thread flusher = Thread.ofVirtual().start(() -> {
            try {
                Io.flush(c);
            } catch (Throwable t) {
                flushOutcome.set(t);
            }
        });
        assertTrue(inFirstStep.await(5, TimeUnit.SECONDS));
        AtomicReference<PowerFailReport> report = new AtomicReference<>();
        Thread cutter = Thread.ofVirtual().start(() -> report.set(c.power().powerOff(PowerFailMode.DROP_ALL, 9)));
        while (!c.powerLockQueued()) {
            Thread.onSpinWait();
        }
        proceed.countDown();
        flusher.join(5000);
        cutter.join(5000);
        DeviceException e = assertInstanceOf(DeviceException.class, flushOutcome.get());
        assertEquals(Errno.ESHUTDOWN, e.errno());
        assertArrayEquals(fill(4096, 0x21), read(medium, 0, 4096), "the first step reached the medium");
        assertArrayEquals(new byte[4096], read(medium, 512 * 1024, 4096), "the second never did");
        assertNotNull(report.get());
        assertEquals(List.of(new ByteRange(512 * 1024, 4096)), report.get().lostRanges());
        c.close();
    }

    @Test
    void powerFailModesAreRepeatableWithTheSameSeed() throws IOException {
        for (PowerFailMode mode : PowerFailMode.values()) {
            PowerFailReport first = history(mode, 42);
            PowerFailReport second = history(mode, 42);
            assertEquals(first, second, mode.label());
            assertEquals(first.dirtyBytes(), first.bytesKept() + first.bytesLost(), mode.label());
            assertEquals(first.dirtyWrites(), first.writesKept() + first.writesTorn() + first.writesLost());
            switch (mode) {
                case DROP_ALL -> assertEquals(first.dirtyWrites(), first.writesLost());
                case RANDOM_SUBSET -> {
                    assertEquals(0, first.writesTorn());
                    assertTrue(first.writesKept() > 0 && first.writesLost() > 0, first.summary());
                }
                case TORN_WRITES -> {
                    assertTrue(first.writesTorn() > 0, first.summary());
                    for (ByteRange r : first.lostRanges()) {
                        assertEquals(0, r.offset() % 512, "torn at sector boundaries: " + r);
                        assertEquals(0, r.length() % 512, "torn at sector boundaries: " + r);
                    }
                }
            }
        }
        assertTrue(
                !history(PowerFailMode.RANDOM_SUBSET, 1).equals(history(PowerFailMode.RANDOM_SUBSET, 2)),
                "another seed, another outcome");
    }

    /** 32 writes of 8 sectors each, some overlapping, then a power failure. */
    private PowerFailReport history(PowerFailMode mode, long seed) throws IOException {
        try (WriteCacheDevice c =
                new WriteCacheDevice(new MemoryDevice(SIZE), CacheMode.WRITEBACK, clock, tmp, new PowerSwitch())) {
            for (int i = 0; i < 32; i++) {
                write(c, (long) i * 3072, fill(4096, i + 1), false);
            }
            return c.power().powerFail(mode, seed);
        }
    }

    @Test
    void dirtyDataStaysOffTheHeap() throws IOException {
        long size = 256L << 20;
        try (WriteCacheDevice c =
                new WriteCacheDevice(new MemoryDevice(size), CacheMode.WRITEBACK, clock, tmp, new PowerSwitch())) {
            ByteBuffer chunk = ByteBuffer.allocateDirect(32 << 20);
            Runtime rt = Runtime.getRuntime();
            long before = rt.totalMemory() - rt.freeMemory();
            for (long off = 0; off < size; off += chunk.capacity()) {
                Io.write(c, off, chunk.clear(), false);
            }
            long after = rt.totalMemory() - rt.freeMemory();
            assertEquals(size, c.status().dirtyBytes());
            assertTrue(after - before < (24L << 20), "heap grew by " + (after - before) + " bytes");
            PowerFailReport report = c.power().powerFail(PowerFailMode.DROP_ALL, 0);
            assertEquals(size, report.bytesLost());
            assertEquals(List.of(new ByteRange(0, size)), report.lostRanges());
        }
    }

    // ---- helpers ----

    interface Action {
        void run() throws IOException;
    }

    private static void assertShutdown(Action action) {
        DeviceException e = assertThrows(DeviceException.class, action::run);
        assertEquals(Errno.ESHUTDOWN, e.errno());
    }

    static byte[] fill(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    static void write(BlockDevice d, long offset, byte[] data, boolean fua) throws IOException {
        Io.write(d, offset, ByteBuffer.wrap(data), fua);
    }

    static byte[] read(BlockDevice d, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        Io.read(d, offset, b);
        assertFalse(b.hasRemaining());
        return b.array();
    }

    /** A clock tests move by hand. */
    static final class FakeClock implements InstantSource {
        private Instant now = Instant.parse("2025-01-01T00:00:00Z");

        @Override
        public synchronized Instant instant() {
            return now;
        }

        synchronized void advance(Duration d) {
            now = now.plus(d);
        }
    }
}
