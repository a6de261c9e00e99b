package dev.faultdisk.nbd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * What one 4 KiB read of a file in the page cache costs: batches of 16 random reads through one
 * io_uring_enter (unlinked, and linked as a chain as UringReads links them before a send) against
 * one pread each. Run by bench/uring-probe.sh; in the package of IoUring, which it uses.
 */
public final class UringReadProbe {
    private static final int BATCHES = 20_000;
    private static final int BATCH = 16;
    private static final int BLOCK = 4096;

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        long blocks = Files.size(file) / BLOCK;
        SplittableRandom random = new SplittableRandom(17);
        int fd = IoUring.openRead(file);
        try (IoUring ring = IoUring.open(64);
                FileChannel channel = FileChannel.open(file)) {
            MemorySegment buffer = Arena.global().allocate((long) BATCH * BLOCK, BLOCK);
            ByteBuffer one = ByteBuffer.allocateDirect(BLOCK);
            for (int round = 1; round <= 3; round++) {
                for (boolean linked : new boolean[] {false, true}) {
                    long start = System.nanoTime();
                    for (int b = 0; b < BATCHES; b++) {
                        for (int i = 0; i < BATCH; i++) {
                            byte link = linked && i < BATCH - 1 ? IoUring.LINK : 0;
                            long offset = random.nextLong(blocks) * BLOCK;
                            ring.prepare(IoUring.OP_READ, link, fd, buffer.address() + (long) i * BLOCK, BLOCK, offset, 0, i);
                        }
                        ring.submitAndWait((user, result) -> {
                            if (result != BLOCK) {
                                throw new IllegalStateException("read " + user + ": " + result);
                            }
                        });
                    }
                    report(round, linked ? "io_uring, 16 linked per call" : "io_uring, 16 per call", start);
                }
                long start = System.nanoTime();
                for (int n = 0; n < BATCHES * BATCH; n++) {
                    channel.read(one.clear(), random.nextLong(blocks) * BLOCK);
                }
                report(round, "pread, one per call", start);
            }
        } finally {
            IoUring.closeFd(fd);
        }
    }

    private static void report(int round, String what, long start) {
        System.out.printf("round %d  %-30s %.2f µs per 4 KiB read%n", round, what,
                (System.nanoTime() - start) / 1000.0 / (BATCHES * BATCH));
    }
}
