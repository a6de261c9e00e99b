package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.device.Libc;
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
        byte[] content = randomImage(dir, 17);
        int fd = Libc.open(dir.resolve("image"), Libc.O_RDONLY | Libc.O_CLOEXEC);
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
            Libc.close(fd);
        }
    }

    @Test
    void readsLinkedToASendOfTheSocketsDuplicate(@TempDir Path dir) throws Exception {
        byte[] content = randomImage(dir, 18);
        int fd = Libc.open(dir.resolve("image"), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try (java.nio.channels.ServerSocketChannel listener = java.nio.channels.ServerSocketChannel.open()
                        .bind(new java.net.InetSocketAddress("127.0.0.1", 0));
                java.nio.channels.SocketChannel client =
                        java.nio.channels.SocketChannel.open(listener.getLocalAddress());
                java.nio.channels.SocketChannel server = listener.accept();
                IoUring ring = openOrSkip();
                Arena arena = Arena.ofConfined()) {
            int socket = SocketDescriptors.duplicate(server);
            org.junit.jupiter.api.Assertions.assertTrue(socket >= 0, "found the server socket");
            MemorySegment buf = arena.allocate(3 * 4096, 4096);
            ring.prepare(IoUring.OP_READ, IoUring.LINK, fd, buf.address(), 4096, 8192, 0, 0);
            ring.prepare(IoUring.OP_READ, IoUring.LINK, fd, buf.address() + 4096, 8192, 0, 0, 1);
            ring.prepare(IoUring.OP_SEND, (byte) 0, socket, buf.address(), 3 * 4096, 0, IoUring.MSG_DONTWAIT, -1);
            long[] results = new long[3];
            ring.submitAndWait((user, res) -> results[user == -1 ? 2 : (int) user] = res);
            assertEquals(4096, results[0]);
            assertEquals(8192, results[1]);
            assertEquals(3 * 4096, results[2]);
            java.nio.ByteBuffer got = java.nio.ByteBuffer.allocate(3 * 4096);
            while (got.hasRemaining()) {
                client.read(got);
            }
            byte[] want = new byte[3 * 4096];
            System.arraycopy(content, 8192, want, 0, 4096);
            System.arraycopy(content, 0, want, 4096, 8192);
            assertArrayEquals(want, got.array());
            Libc.close(socket);
        } finally {
            Libc.close(fd);
        }
    }

    /** Writes 64 KiB of seeded random bytes to {@code dir/image} and returns them. */
    private static byte[] randomImage(Path dir, long seed) throws IOException {
        byte[] content = new byte[64 * 1024];
        new Random(seed).nextBytes(content);
        Files.write(dir.resolve("image"), content);
        return content;
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
