package dev.faultdisk.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for connections (input and reply buffers while they are busy) and for requests
 * that run off the reader thread, recycled by power-of-two size class so that a steady load
 * allocates nothing. Each class keeps a bounded number of idle buffers (as many as make
 * {@value #MAX_IDLE_BYTES} bytes, at least {@value #MIN_IDLE} and at most {@value #MAX_IDLE}), and
 * all of them together at most {@value #MAX_IDLE_BYTES} bytes: enough for a hundred busy
 * connections to take and return their buffers without allocating; beyond that, released buffers
 * are left to the collector.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25;
    private static final int MIN_IDLE = 4;
    private static final int MAX_IDLE = 1024;
    /** Idle buffers kept at most, in bytes: what the pool holds when nothing runs. */
    private static final long MAX_IDLE_BYTES = 64L << 20;

    static final BufferPool SHARED = new BufferPool();

    private final IdleBuffers[] idle = new IdleBuffers[MAX_SHIFT - MIN_SHIFT + 1];
    private final AtomicLong idleBytes = new AtomicLong();

    BufferPool() {
        for (int i = 0; i < idle.length; i++) {
            idle[i] = new IdleBuffers(Math.clamp(MAX_IDLE_BYTES >> (i + MIN_SHIFT), MIN_IDLE, MAX_IDLE));
        }
    }

    /** A cleared buffer with limit {@code length}; capacity is the size class. */
    ByteBuffer acquire(int length) {
        int cls = sizeClass(length);
        ByteBuffer b = idle[cls].take();
        if (b != null) {
            idleBytes.addAndGet(-b.capacity());
        } else {
            b = ByteBuffer.allocateDirect(1 << (cls + MIN_SHIFT));
        }
        return b.clear().limit(length);
    }

    void release(ByteBuffer b) {
        if (b == null || !b.isDirect() || Integer.bitCount(b.capacity()) != 1) {
            return;
        }
        int cls = Integer.numberOfTrailingZeros(b.capacity()) - MIN_SHIFT;
        if (cls < 0 || cls >= idle.length) {
            return;
        }
        if (idleBytes.addAndGet(b.capacity()) > MAX_IDLE_BYTES || !idle[cls].keep(b)) {
            idleBytes.addAndGet(-b.capacity()); // left to the collector
        }
    }

    /** Idle buffers held now, in bytes. */
    long idleBytes() {
        return idleBytes.get();
    }

    /** The capacity of the buffer {@link #acquire} returns for {@code length}. */
    static int capacityFor(int length) {
        return 1 << (sizeClass(length) + MIN_SHIFT);
    }

    private static int sizeClass(int length) {
        int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(Math.max(1, length) - 1));
        if (shift > MAX_SHIFT) {
            throw new IllegalArgumentException("buffer of " + length + " bytes is larger than the maximum payload");
        }
        return shift - MIN_SHIFT;
    }

    /**
     * One size class's idle buffers, last in first out: a connection that waits idle between
     * batches takes back the buffer it gave, still in the CPU's cache. An array under a lock
     * rather than a concurrent queue, whose every offer allocates a node: a connection gives its
     * buffers back each time it waits, thousands of times a second.
     */
    private static final class IdleBuffers {
        private final ByteBuffer[] buffers;
        private int count;

        IdleBuffers(int max) {
            buffers = new ByteBuffer[max];
        }

        synchronized ByteBuffer take() {
            if (count == 0) {
                return null;
            }
            ByteBuffer b = buffers[--count];
            buffers[count] = null;
            return b;
        }

        synchronized boolean keep(ByteBuffer b) {
            if (count == buffers.length) {
                return false;
            }
            buffers[count++] = b;
            return true;
        }
    }
}
