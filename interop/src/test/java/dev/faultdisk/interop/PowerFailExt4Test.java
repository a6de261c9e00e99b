package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.cache.CacheStatus;
import dev.faultdisk.cache.PowerFailReport;
import dev.faultdisk.cache.WriteCacheDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The write-barrier bug class, reproduced on the whole stack: ext4 on a loop device on an
 * nbdfuse file on a writeback export. A file is written and fsynced, the export loses its power
 * (drop-all: nothing unflushed survives), everything is taken down and attached again.
 *
 * <p>The chain forwards flushes: ext4 commits its journal with REQ_PREFLUSH and REQ_FUA; the loop
 * driver turns a flush into fsync on its backing file (and, as it has no FUA, the block layer
 * turns FUA into one more flush); FUSE sends that fsync to nbdfuse, which sends NBD FLUSH.
 *
 * <ul>
 * <li>Default mount options: fsync ends with a flush, so the file is durable and comes back.
 * <li>{@code barrier=0}: ext4 issues no flush at all (nobarrier skips REQ_PREFLUSH/REQ_FUA on its
 *     journal commits and the flush at the end of fsync), so fsync returns while the file's data,
 *     inode and journal blocks sit in the disk's volatile cache; the power cut drops them and the
 *     file is gone or damaged.
 * <li>Default options on a disk whose cache lies about flush: ext4 does everything right, the disk
 *     acknowledges the flush and persists nothing; the file is lost all the same.
 * </ul>
 * Each runs with requests inline on the connection's reader and on threads of their own
 * ({@code ,offreader}: what the server does when a fault layer may hold requests).
 */
class PowerFailExt4Test {
    private static final long SEED = 20180328L;
    private static final int FILE_SIZE = 1 << 20;

    @TempDir
    Path dir;

    /** What one run saw. */
    record Outcome(
            long flushesDuringFsync, long lyingFlushesDuringFsync, PowerFailReport report, int fsckExit, String file) {}

    @ParameterizedTest
    @ValueSource(strings = {"", ",offreader"})
    void fsyncedFileSurvivesPowerFailureWithBarriers(String dispatch) throws Exception {
        Outcome o = run(CacheMode.WRITEBACK, "", dispatch);
        assertTrue(o.flushesDuringFsync() > 0, "fsync must reach the server as NBD FLUSH: " + o);
        assertEquals("intact", o.file(), o.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ",offreader"})
    void fsyncedFileIsLostWithBarrierZero(String dispatch) throws Exception {
        Outcome o = run(CacheMode.WRITEBACK, "barrier=0", dispatch);
        assertEquals(0, o.flushesDuringFsync(), "barrier=0 must send no flush: " + o);
        assertTrue(o.report().bytesLost() > 0, "the power cut lost unflushed data: " + o);
        assertNotEquals("intact", o.file(), "drop-all keeps nothing unflushed, so the file cannot survive: " + o);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ",offreader"})
    void fsyncedFileIsLostOnADiskThatLiesAboutFlush(String dispatch) throws Exception {
        Outcome o = run(CacheMode.LYING_FLUSH, "", dispatch);
        assertTrue(o.lyingFlushesDuringFsync() > 0, "ext4 did flush; the disk lied: " + o);
        assertEquals(0, o.flushesDuringFsync() - o.lyingFlushesDuringFsync(), "no flush persisted anything: " + o);
        assertTrue(o.report().bytesLost() > 0, o.toString());
        assertNotEquals("intact", o.file(), o.toString());
    }

    /**
     * Makes ext4 (in writeback mode, so mkfs and mount are durable), switches the cache to
     * {@code fileMode}, writes and fsyncs a file, cuts the power, detaches, and mounts again.
     */
    private Outcome run(CacheMode fileMode, String mountOptions, String dispatch) throws Exception {
        FuseLoopDisk.requireAll();
        byte[] content = new byte[FILE_SIZE];
        new SplittableRandom(SEED).nextBytes(content);
        Path mnt = dir.resolve("mnt");
        try (TestServer server = new TestServer("disk=memory:256M,cache=writeback" + dispatch)) {
            Export export = server.exports().find("disk").orElseThrow();
            WriteCacheDevice cache = export.writeCache();
            String uri = server.uri("disk");
            long flushes;
            long lying;
            PowerFailReport report;
            try (FuseLoopDisk disk = FuseLoopDisk.attach(uri, dir, "first")) {
                disk.mkfs();
                disk.mount(mnt, mountOptions);
                cache.setMode(fileMode);
                long flushesBefore = export.stats().ops(BlockOp.FLUSH);
                long lyingBefore = cache.status().lyingFlushes();
                writeAndFsync(mnt.resolve("precious"), content);
                flushes = export.stats().ops(BlockOp.FLUSH) - flushesBefore;
                lying = cache.status().lyingFlushes() - lyingBefore;
                CacheStatus dirty = cache.status();
                report = cache.power().powerOff(PowerFailMode.DROP_ALL, SEED);
                awaitNoConnections(server, export);
                System.out.println("[" + fileMode.label() + dispatch + ", mount -o '" + mountOptions + "'] fsync sent "
                        + flushes + " flushes (" + lying + " lied); dirty before the cut: " + dirty.dirtyBytes()
                        + " bytes in " + dirty.dirtyRanges() + " ranges; " + report.summary());
            } // taken down with the power off: nothing the kernel still writes can reach the disk
            cache.power().powerOn();
            try (FuseLoopDisk disk = FuseLoopDisk.attach(uri, dir, "second")) {
                int fsck = disk.fsck();
                assertTrue(fsck < 4, "e2fsck -fy left errors (exit " + fsck + ")");
                disk.mount(mnt, "");
                String state = fileState(mnt.resolve("precious"), content);
                System.out.println("[" + fileMode.label() + dispatch + ", mount -o '" + mountOptions
                        + "'] after power-on: e2fsck exit " + fsck + ", file " + state);
                return new Outcome(flushes, lying, report, fsck, state);
            }
        }
    }

    /** The cut drops every NBD connection to the export (the listener TestServer registers). */
    private static void awaitNoConnections(TestServer server, Export export) {
        await("connections closed after the power cut")
                .atMost(Duration.ofSeconds(10))
                .until(() -> server.server().connectionCount(export) == 0);
    }

    private static void writeAndFsync(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true); // fsync(2)
        }
    }

    private static String fileState(Path file, byte[] content) {
        if (!Files.exists(file)) {
            return "missing";
        }
        try {
            return Arrays.equals(content, Files.readAllBytes(file)) ? "intact" : "damaged";
        } catch (IOException e) {
            return "damaged (" + e.getMessage() + ")";
        }
    }
}
