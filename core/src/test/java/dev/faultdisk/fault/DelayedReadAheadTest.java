package dev.faultdisk.fault;

import static dev.faultdisk.fault.Disk.rule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.FileDevice;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.fault.blkdebug.BlkdebugEvent;
import dev.faultdisk.fault.blkdebug.InjectErrorRule;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A submitted read delayed by its last rule is read before its wait, and that data is answered
 * only if the stack below did not change meanwhile: whatever lands during the wait (a write, a
 * blkdebug rule, a power cut) acts on the read as if it had been read after the wait.
 */
class DelayedReadAheadTest {
    private static final int DELAY_MS = 10;

    /** The medium, counting the reads that reach it; {@code versioned}: it says when it changed. */
    private static final class WatchedMedium extends ForwardingBlockDevice {
        final AtomicInteger reads = new AtomicInteger();
        private final boolean versioned;

        WatchedMedium(boolean versioned) {
            super(new MemoryDevice(1 << 20));
            this.versioned = versioned;
        }

        @Override
        public void read(BlockRequest r, ByteBuffer dst) throws IOException {
            reads.incrementAndGet();
            super.read(r, dst);
        }

        @Override
        public long readVersion(BlockRequest r) {
            return versioned ? next.readVersion(r) : UNVERSIONED;
        }
    }

    private final VirtualTime time = VirtualTime.manual(Disk.START);

    private Export export(WatchedMedium medium, CacheMode mode) throws IOException {
        Export e = new Export("d", medium, false, new BlkdebugEngine(), mode, time.faultTime(), 1);
        Io.write(e.device(), 0, ByteBuffer.wrap(Io.filled(4096, 1)), false);
        e.faults().add(List.of(rule("type", "delay", "ms", DELAY_MS, "ops", "read")), "rules");
        return e;
    }

    private static Outcome submitRead(Export e) {
        Outcome o = new Outcome(4096);
        e.device().submit(BlockRequest.of(BlockOp.READ, 0, 4096, 0, 7, true), o.data, null, o);
        return o;
    }

    private void waitOut() {
        time.advance(Duration.ofMillis(DELAY_MS));
    }

    @ParameterizedTest
    @EnumSource(CacheMode.class)
    void readBeforeItsWaitAndAnsweredWithThatDataWhenNothingChanged(CacheMode mode) throws Exception {
        WatchedMedium medium = new WatchedMedium(true);
        try (Export e = export(medium, mode)) {
            int before = medium.reads.get();
            Outcome o = submitRead(e);
            int ahead = medium.reads.get() - before;
            waitOut();
            assertArrayEquals(Io.filled(4096, 1), o.bytes());
            int total = medium.reads.get() - before;
            if (mode == CacheMode.WRITETHROUGH) {
                assertEquals(1, ahead, "read before the wait ended");
                assertEquals(1, total, "and not again after it");
            } else {
                assertEquals(0, ahead, "served from the cache, not the medium");
                assertEquals(0, total);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(CacheMode.class)
    void aWriteLandingDuringTheWaitIsSeen(CacheMode mode) throws Exception {
        WatchedMedium medium = new WatchedMedium(true);
        try (Export e = export(medium, mode)) {
            Outcome o = submitRead(e);
            Io.write(e.device(), 0, ByteBuffer.wrap(Io.filled(4096, 2)), false);
            waitOut();
            assertArrayEquals(Io.filled(4096, 2), o.bytes(), "what the disk holds when the delay ends");
        }
    }

    @Test
    void aTrimLandingDuringTheWaitIsSeen() throws Exception {
        try (Export e = export(new WatchedMedium(true), CacheMode.WRITETHROUGH)) {
            Outcome o = submitRead(e);
            e.device().writeZeroes(BlockRequest.of(BlockOp.WRITE_ZEROES, 0, 4096));
            waitOut();
            assertArrayEquals(new byte[4096], o.bytes());
        }
    }

    @Test
    void aBlkdebugRuleAddedDuringTheWaitActsOnTheRead() throws Exception {
        try (Export e = export(new WatchedMedium(true), CacheMode.WRITETHROUGH)) {
            Outcome o = submitRead(e);
            e.blkdebug().addRules(List.of(InjectErrorRule.on(BlkdebugEvent.READ_AIO)));
            waitOut();
            assertEquals(0, o.done.getCount());
            assertEquals(
                    Errno.EIO,
                    assertInstanceOf(DeviceException.class, o.failure).errno());
        }
    }

    @Test
    void aPowerCutDuringTheWaitRefusesTheRead() throws Exception {
        try (Export e = export(new WatchedMedium(true), CacheMode.WRITEBACK)) {
            Outcome o = submitRead(e);
            e.powerFail(PowerFailMode.DROP_ALL, 1);
            waitOut();
            assertEquals(0, o.done.getCount());
            assertEquals(
                    Errno.ESHUTDOWN,
                    assertInstanceOf(DeviceException.class, o.failure).errno(),
                    "it entered before the cut, as a read done after its wait would find");
        }
    }

    @Test
    void aMediumThatCannotTellIsReadAfterTheWait() throws Exception {
        WatchedMedium medium = new WatchedMedium(false);
        try (Export e = export(medium, CacheMode.WRITETHROUGH)) {
            int before = medium.reads.get();
            Outcome o = submitRead(e);
            assertEquals(before, medium.reads.get(), "nothing read ahead");
            waitOut();
            assertArrayEquals(Io.filled(4096, 1), o.bytes());
            assertEquals(before + 1, medium.reads.get());
        }
    }

    @Test
    void aRuleAfterTheDelayLeavesTheReadAfterTheWait() throws Exception {
        WatchedMedium medium = new WatchedMedium(true);
        try (Export e = export(medium, CacheMode.WRITETHROUGH)) {
            e.faults().add(List.of(rule("type", "corrupt", "ops", "read", "probability", 0)), "rules");
            int before = medium.reads.get();
            Outcome o = submitRead(e);
            assertEquals(before, medium.reads.get(), "a later rule may still change the plan: nothing read ahead");
            waitOut();
            assertArrayEquals(Io.filled(4096, 1), o.bytes());
        }
    }

    @Test
    void versionsOfTheMediaMoveWithEveryChangeAndNotWithReads(@TempDir Path dir) throws Exception {
        BlockDevice memory = new MemoryDevice(1 << 20);
        BlockDevice file = FileDevice.open(dir.resolve("image"), 1 << 20, false);
        BlockRequest read = BlockRequest.of(BlockOp.READ, 0, 512);
        for (BlockDevice d : List.of(memory, file)) {
            long v0 = d.readVersion(read);
            d.read(read, ByteBuffer.allocate(512));
            d.flush(BlockRequest.flush());
            assertEquals(v0, d.readVersion(read), d.describe());
            d.write(BlockRequest.of(BlockOp.WRITE, 0, 512), ByteBuffer.allocate(512));
            long v1 = d.readVersion(read);
            assertTrue(v1 > v0, d.describe());
            d.trim(BlockRequest.of(BlockOp.TRIM, 0, 4096));
            long v2 = d.readVersion(read);
            assertTrue(v2 > v1, d.describe());
            d.writeZeroes(BlockRequest.of(BlockOp.WRITE_ZEROES, 0, 4096));
            long v3 = d.readVersion(read);
            assertTrue(v3 > v2, d.describe());
            d.close();
            assertTrue(d.readVersion(read) > v3, "closed: a read done ahead is done again, " + d.describe());
        }
    }
}
