package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileDeviceTest {
    @TempDir
    Path dir;

    @Test
    void readOnlyImageRefusesEveryChangeWithEperm() throws IOException {
        Path image = dir.resolve("ro.img");
        byte[] content = Io.filled(8192, 7);
        Files.write(image, content);
        try (FileDevice d = FileDevice.open(image, -1, true)) {
            assertTrue(d.isReadOnly());
            assertEperm(() -> Io.write(d, 0, ByteBuffer.wrap(new byte[] {1}), false));
            assertEperm(() -> Io.trim(d, 0, 4096, false));
            assertEperm(() -> Io.writeZeroes(d, 0, 4096, false, false, false));
            assertEperm(() -> Io.writeZeroes(d, 0, 4096, true, true, true));
            assertArrayEquals(content, readFromStart(d, 8192));
        }
        assertArrayEquals(content, Files.readAllBytes(image), "the image is untouched");
        // The same through an export: its stack refuses the same way.
        try (Export e = Export.open(ExportSpec.parse("ro=" + image + ",readonly"))) {
            assertEperm(() -> Io.write(e.device(), 0, ByteBuffer.wrap(new byte[] {1}), false));
            assertEquals(1, e.stats().errors(BlockOp.WRITE));
        }
    }

    @Test
    void freshSparseImageIsOneZeroHole() throws IOException {
        Path image = dir.resolve("sparse.img");
        try (FileDevice d = FileDevice.open(image, 1L << 30, false)) {
            assertEquals(1L << 30, d.size());
            int[] calls = {0};
            Io.extents(d, 0, d.size(), (length, flags) -> {
                calls[0]++;
                assertEquals(1L << 30, length);
                assertEquals(ExtentSink.HOLE | ExtentSink.ZERO, flags);
                return true;
            });
            assertEquals(1, calls[0]);
        }
        assertTrue(Files.size(image) == 1L << 30);
    }

    /**
     * Zeroing that keeps the blocks (NO_HOLE) zeroes in place without writing, so a fast zero is
     * served: on ext4 and XFS by ZERO_RANGE (the extents unwritten), on tmpfs by a punched hole
     * allocated again; SEEK_DATA passes either as it passes a hole.
     */
    @Test
    void zeroingThatKeepsTheBlocksIsInPlaceAndFast() throws IOException {
        zeroInPlace(dir);
    }

    /** The same on tmpfs, which has no ZERO_RANGE (where the machine has /dev/shm). */
    @Test
    void zeroingThatKeepsTheBlocksIsInPlaceAndFastOnTmpfs() throws IOException {
        Io.onTmpfs(FileDeviceTest::zeroInPlace);
    }

    private static void zeroInPlace(Path dir) throws IOException {
        String fs = Files.getFileStore(dir).type();
        try (FileDevice d = FileDevice.open(dir.resolve("fz.img"), 1 << 20, false)) {
            // Written through (FUA): zeroing part of a range still in delayed allocation, ext4 may
            // leave it cached, which SEEK_DATA counts as data (kernel 6.18).
            Io.write(d, 0, ByteBuffer.wrap(Io.filled(1 << 20, 1)), true);
            Io.writeZeroes(d, 0, 65536, true, true, false); // FAST_ZERO: refused were zeroes written
            List<long[]> extents = new ArrayList<>();
            d.extents(
                    BlockRequest.of(BlockOp.BLOCK_STATUS, 0, 1 << 20),
                    (length, flags) -> extents.add(new long[] {length, flags}));
            String seen = fs + ": " + extents.stream().map(Arrays::toString).toList();
            if (fs.equals("ext4") || fs.equals("xfs") || fs.equals("tmpfs")) {
                assertEquals(65536, extents.getFirst()[0], seen);
                assertEquals(ExtentSink.HOLE | ExtentSink.ZERO, extents.getFirst()[1], "not written zeroes: " + seen);
            }
            // After the extents: cached pages of an unwritten extent count as data.
            assertArrayEquals(new byte[65536], readFromStart(d, 65536));
            Io.writeZeroes(d, 65536, 4096, true, false, false);
            byte[] back = readFromStart(d, 73728);
            assertArrayEquals(new byte[4096], Arrays.copyOfRange(back, 65536, 69632));
            assertArrayEquals(Io.filled(4096, 1), Arrays.copyOfRange(back, 69632, 73728), "past the range untouched");
        }
    }

    @Test
    void bytesPastAShrunkenFileReadAsZeroes() throws IOException {
        Path image = dir.resolve("shrink.img");
        try (FileDevice d = FileDevice.open(image, 8192, false)) {
            Io.write(d, 0, ByteBuffer.wrap(Io.filled(8192, 1)), false);
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(4096); // someone else truncates the image
            }
            byte[] expected = java.util.Arrays.copyOf(Io.filled(4096, 1), 8192); // ones, then zeroes
            assertArrayEquals(expected, readFromStart(d, 8192));
        }
    }

    @Test
    void missingImageWithoutSizeIsAClearError() {
        IOException e = assertThrows(IOException.class, () -> FileDevice.open(dir.resolve("none.img"), -1, false));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    private static byte[] readFromStart(BlockDevice d, int length) throws IOException {
        ByteBuffer back = ByteBuffer.allocate(length);
        Io.read(d, 0, back);
        return back.array();
    }

    private interface Op {
        void run() throws IOException;
    }

    private static void assertEperm(Op op) {
        DeviceException e = assertThrows(DeviceException.class, op::run);
        assertEquals(Errno.EPERM, e.errno());
    }

    /**
     * A dense image offers its channel for sendfile; a sparse one, or one this device punched a
     * hole in, does not (so reads of holes find zeroes and may answer as holes).
     */
    @Test
    void onlyAnImageWithoutHolesIsOfferedForSendfile() throws IOException {
        Path dense = dir.resolve("dense.img");
        Files.write(dense, Io.filled(1 << 20, 9));
        BlockRequest read = BlockRequest.of(BlockOp.READ, 0, 1 << 20);
        try (FileDevice d = FileDevice.open(dense, -1, false)) {
            assertTrue(d.readSource(read) != null, "a dense image");
            Io.writeZeroes(d, 4096, 4096, false, false, false); // may unmap: punches a hole
            assertEquals(null, d.readSource(read), "after a hole was punched");
        }
        try (FileDevice d = FileDevice.open(dir.resolve("sparse.img"), 1 << 20, false)) {
            assertEquals(null, d.readSource(read), "a sparse image");
        }
    }
}
