package dev.faultdisk.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide budget for request payload buffers (write data waiting for the device, read
 * data waiting for the client). A buffer is taken when its payload arrives and given back when
 * the reply is written; when the budget is spent the request fails with ENOMEM instead of the
 * process growing without bound.
 */
final class PayloadBudget {
    private final long limit;
    private final AtomicLong used = new AtomicLong();

    PayloadBudget(long limit) {
        this.limit = limit;
    }

    /** A buffer of {@code length} bytes (limit set), or null if the budget cannot cover it. */
    ByteBuffer tryAcquire(int length) {
        long cost = BufferPool.capacityFor(length);
        if (!tryCharge(cost)) {
            return null;
        }
        try {
            return BufferPool.SHARED.acquire(length);
        } catch (OutOfMemoryError e) {
            // Direct memory ran out below the budget (another part of the process took it):
            // this request fails, the process goes on.
            used.addAndGet(-cost);
            return null;
        }
    }

    /**
     * Counts {@code bytes} held elsewhere (a memory export's pages a payload waits in) as if a
     * buffer; false, nothing counted, if the budget cannot cover them.
     */
    boolean tryCharge(long bytes) {
        long now;
        do {
            now = used.get();
            if (now + bytes > limit) {
                return false;
            }
        } while (!used.compareAndSet(now, now + bytes));
        return true;
    }

    /** Takes back what {@link #tryCharge} counted. */
    void discharge(long bytes) {
        used.addAndGet(-bytes);
    }

    /** Gives back a buffer from {@link #tryAcquire}; null is ignored. */
    void release(ByteBuffer buffer) {
        if (buffer != null) {
            used.addAndGet(-buffer.capacity());
            BufferPool.SHARED.release(buffer);
        }
    }

    long used() {
        return used.get();
    }

    long limit() {
        return limit;
    }
}
