package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoUringTest {
    @Test
    void readsAFileInOneBatch(@TempDir Path dir) throws IOException {
        byte[] content = new byte[64 * 1024];
        new Random(17).nextBytes(content);
        Path file = Files.write(dir.resolve("image"), content);
        int fd = IoUring.openRead(file);
        try (IoUring ring = openOrSkip();
                Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(3 * 4096, 4096);
            long[] offsets = {0, 4096 * 5, 60 * 1024};
            for (int i = 0; i < offsets.length; i++) {
                ring.prepare(IoUring.OP_READ, (byte) 0, fd, buf.address() + 4096L * i, 4096, offsets[i], 0, i);
            }
            List<long[]> done = new ArrayList<>();
            ring.submitAndWait((user, res) -> done.add(new long[] {user, res}));
            assertEquals(3, done.size());
            for (long[] d : done) {
                assertEquals(4096, d[1], "read " + d[0]);
                int i = (int) d[0];
                byte[] got = buf.asSlice(4096L * i, 4096).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                byte[] want = java.util.Arrays.copyOfRange(content, (int) offsets[i], (int) offsets[i] + 4096);
                assertArrayEquals(want, got);
            }
        } finally {
            IoUring.closeFd(fd);
        }
    }

    private static IoUring openOrSkip() {
        try {
            return IoUring.open(8);
        } catch (IOException e) {
            Assumptions.abort("io_uring unavailable here: " + e.getMessage());
            throw new AssertionError(e);
        }
    }
}
