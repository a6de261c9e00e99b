package dev.faultdisk.device;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Large writes to one regular file taking turns in the order they come, once many are at the file
 * at once. The file's writes hold its inode lock one at a time anyway (tmpfs, ext4 and XFS buffered
 * writes), but the kernel lets a writer that is running take that lock ahead of ones asleep on it:
 * with 100 connections writing 1 MiB each, some got under half an even share over seconds (0.46 and
 * 0.58 of it by the sockets' byte counts; 0.99 taking turns, docs/BENCHMARKS.md). A turn handed over
 * costs a thread's wake-up, which with a few writers is more than their order is worth (four
 * connections' writes ran 0.89x always taking turns): so turns start only past {@link #AFTER}
 * writers, and small writes, short next to a wake-up, never take them.
 */
final class WriteTurns {
    /**
     * Writes this long or longer may take turns ({@code -Dfaultdisk.file.writeTurnsMinBytes}): 100
     * connections' 256 KiB writes ran 0.83-1.00x taking turns, their lowest share 0.54-0.64 without.
     */
    static final int MIN_LENGTH = Integer.getInteger("faultdisk.file.writeTurnsMinBytes", 512 * 1024);
    /**
     * Turns start once more large writes than this are at the file (waiting or writing); a
     * negative value turns them off ({@code -Dfaultdisk.file.writeTurnsAfter}).
     */
    static final int AFTER = Integer.getInteger("faultdisk.file.writeTurnsAfter", 8);

    /** What {@link #begin} did, for {@link #end}. */
    static final int NONE = 0;

    static final int COUNTED = 1;
    static final int TURN = 2;

    private final ReentrantLock turn = new ReentrantLock(true);
    private final AtomicInteger writers = new AtomicInteger();
    private final boolean on;
    private final int after;

    /** {@code on}: the file is one whose writes the kernel serialises (a regular file). */
    WriteTurns(boolean on, int after) {
        this.on = on && after >= 0;
        this.after = after;
    }

    WriteTurns(boolean on) {
        this(on, AFTER);
    }

    /** Before a write of {@code length} bytes: waits for its turn if it takes one. Pass the result to {@link #end}. */
    int begin(long length) {
        if (!on || length < MIN_LENGTH) {
            return NONE;
        }
        if (writers.incrementAndGet() <= after) {
            return COUNTED;
        }
        turn.lock();
        return TURN;
    }

    /** Writes waiting for their turn. */
    int waiting() {
        return turn.getQueueLength();
    }

    /** After the write, whether it succeeded or not. */
    void end(int began) {
        if (began == TURN) {
            turn.unlock();
        }
        if (began != NONE) {
            writers.decrementAndGet();
        }
    }
}
