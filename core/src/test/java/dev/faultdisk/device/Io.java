package dev.faultdisk.device;

import dev.faultdisk.device.BlockRequest.Flag;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.FileTrees;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;

/**
 * Calls on a device as an in-process caller makes them (no connection, may block), one line per
 * operation, so that tests read like the operations they check.
 */
public final class Io {
    private Io() {}

    public static void read(BlockDevice d, long offset, ByteBuffer dst) throws IOException {
        d.read(BlockRequest.of(BlockOp.READ, offset, dst.remaining()), dst);
    }

    public static void write(BlockDevice d, long offset, ByteBuffer src, boolean fua) throws IOException {
        d.write(BlockRequest.of(BlockOp.WRITE, offset, src.remaining(), flags(fua ? Flag.FUA : null)), src);
    }

    /** Writes all of {@code data} at {@code offset}. */
    public static void write(BlockDevice d, long offset, byte[] data, boolean fua) throws IOException {
        write(d, offset, ByteBuffer.wrap(data), fua);
    }

    /** The {@code length} bytes at {@code offset}. */
    public static byte[] read(BlockDevice d, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        read(d, offset, b);
        return b.array();
    }

    /** {@code length} bytes, each {@code value}. */
    public static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    public static void flush(BlockDevice d) throws IOException {
        d.flush(BlockRequest.flush());
    }

    public static void trim(BlockDevice d, long offset, long length, boolean fua) throws IOException {
        d.trim(BlockRequest.of(BlockOp.TRIM, offset, length, flags(fua ? Flag.FUA : null)));
    }

    public static void writeZeroes(
            BlockDevice d, long offset, long length, boolean noHole, boolean fastOnly, boolean fua) throws IOException {
        d.writeZeroes(BlockRequest.of(
                BlockOp.WRITE_ZEROES,
                offset,
                length,
                flags(noHole ? Flag.NO_HOLE : null, fastOnly ? Flag.FAST_ZERO : null, fua ? Flag.FUA : null)));
    }

    public static void extents(BlockDevice d, long offset, long length, ExtentSink sink) throws IOException {
        d.extents(BlockRequest.of(BlockOp.BLOCK_STATUS, offset, length), sink);
    }

    private static Flag[] flags(Flag... maybe) {
        Set<Flag> set = EnumSet.noneOf(Flag.class);
        for (Flag f : maybe) {
            if (f != null) {
                set.add(f);
            }
        }
        return set.toArray(Flag[]::new);
    }

    /** A check that runs in a directory. */
    public interface InDirectory {
        void run(Path dir) throws IOException;
    }

    /**
     * Runs {@code check} in a scratch directory on tmpfs, removed after; skipped (said so) where the
     * machine has no tmpfs at /dev/shm.
     */
    public static void onTmpfs(InDirectory check) throws IOException {
        Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(
                Files.isDirectory(shm) && Files.getFileStore(shm).type().equals("tmpfs"), "no tmpfs at /dev/shm");
        Path scratch = Files.createTempDirectory(shm, "faultdisk-test");
        try {
            check.run(scratch);
        } finally {
            FileTrees.delete(scratch);
        }
    }
}
