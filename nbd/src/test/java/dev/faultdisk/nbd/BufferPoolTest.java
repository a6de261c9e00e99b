package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
    @Test
    void aBufferGivenBackIsTheNextTakenOfItsSize() {
        BufferPool pool = new BufferPool();
        ByteBuffer a = pool.acquire(4096);
        ByteBuffer b = pool.acquire(4096);
        pool.release(a);
        pool.release(b);
        assertSame(b, pool.acquire(100), "the last given back, still in the cache");
        assertSame(a, pool.acquire(4096));
        assertNotSame(a, pool.acquire(4096), "none idle: a new one");
        ByteBuffer large = pool.acquire(5000);
        assertEquals(8192, large.capacity());
        assertEquals(5000, large.limit());
    }

    @Test
    void takingAndGivingBackAllocatesNothing() {
        BufferPool pool = new BufferPool();
        for (int i = 0; i < 10_000; i++) { // the JIT compiles the path
            pool.release(pool.acquire(256 * 1024));
        }
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            pool.release(pool.acquire(256 * 1024));
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        // A node or a view each time would be 2.4 MB at least.
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated for 100,000 buffers taken and given back");
    }

    @Test
    void eachSizeKeepsABoundedNumberIdleAndThePoolABoundedSum() {
        BufferPool other = new BufferPool();
        List<ByteBuffer> small = new ArrayList<>();
        for (int i = 0; i < 1100; i++) {
            small.add(other.acquire(4096));
        }
        small.forEach(other::release);
        assertEquals(1024L * 4096, other.idleBytes(), "at most 1,024 of a size");

        BufferPool full = new BufferPool();
        List<ByteBuffer> mid = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            mid.add(full.acquire(256 * 1024));
        }
        mid.forEach(full::release);
        assertEquals(64L << 20, full.idleBytes(), "64 MiB idle at most");
    }

    @Test
    void buffersNotItsOwnAreNotKept() {
        BufferPool pool = new BufferPool();
        pool.release(ByteBuffer.allocate(4096));
        pool.release(ByteBuffer.allocateDirect(5000));
        pool.release(ByteBuffer.allocateDirect(1024));
        pool.release(null);
        assertEquals(0, pool.idleBytes());
    }
}
