package dev.faultdisk.wire.net;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Arrays of one length, lent to connections while they are busy and given back when they wait
 * idle, so that ten thousand idle TLS connections hold none of them, while a busy one takes the
 * same array back from here instead of making a new one each time it wakes. At most
 * {@code maxIdle} arrays wait here; more given back are left to the collector. (Netty's allocator
 * and commons-pool do this and much more; a queue and a count are all that is needed here.)
 */
public final class ArrayPool {
    private final int length;
    private final int maxIdle;
    private final ConcurrentLinkedQueue<byte[]> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger count = new AtomicInteger();

    public ArrayPool(int length, int maxIdle) {
        this.length = length;
        this.maxIdle = maxIdle;
    }

    /** An array of {@link #length()} bytes, with whatever it last held. */
    public byte[] take() {
        byte[] a = idle.poll();
        if (a == null) {
            return new byte[length];
        }
        count.decrementAndGet();
        return a;
    }

    /** Gives {@code a} back (null, or an array of another length, is ignored); its lender keeps no reference. */
    public void give(byte[] a) {
        if (a == null || a.length != length) {
            return;
        }
        if (count.incrementAndGet() <= maxIdle) {
            idle.offer(a);
        } else {
            count.decrementAndGet();
        }
    }

    public int length() {
        return length;
    }

    /** Arrays waiting here now. */
    public int idle() {
        return count.get();
    }
}
