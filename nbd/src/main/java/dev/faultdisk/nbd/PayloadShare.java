package dev.faultdisk.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection's part of the server's {@link PayloadBudget}: what it holds, and the most it may
 * (a quarter of the budget, at least one maximum payload), so that one client never takes all of
 * it. Taken on the reader and given back wherever a request completes, hence atomic.
 */
final class PayloadShare {
    private final PayloadBudget budget;
    private final long connection;
    private final long share;
    private final AtomicLong mine = new AtomicLong();

    PayloadShare(PayloadBudget budget, long connection) {
        this.budget = budget;
        this.connection = connection;
        this.share = Math.max(NbdProtocol.MAX_PAYLOAD, budget.limit() / 4);
    }

    /** A payload buffer of {@code length} bytes (limit set) within this connection's share, or null. */
    ByteBuffer take(int length) {
        long cost = BufferPool.capacityFor(length);
        if (mine.addAndGet(cost) > share) {
            mine.addAndGet(-cost);
            return null;
        }
        ByteBuffer b = budget.tryAcquire(length);
        if (b == null) {
            mine.addAndGet(-cost);
        }
        return b;
    }

    /**
     * Counts {@code bytes} of a memory export's pages a payload is received into as a buffer of
     * this share (they stand in for one); false, nothing counted, if the share or the budget
     * cannot cover them.
     */
    boolean charge(long bytes) {
        if (mine.addAndGet(bytes) > share) {
            mine.addAndGet(-bytes);
            return false;
        }
        if (!budget.tryCharge(bytes)) {
            mine.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    /** Takes back what {@link #charge} counted. */
    void discharge(long bytes) {
        mine.addAndGet(-bytes);
        budget.discharge(bytes);
    }

    /** Gives back a buffer {@link #take} gave; null is nothing. */
    void give(ByteBuffer b) {
        if (b != null) {
            mine.addAndGet(-b.capacity());
            budget.release(b);
        }
    }

    /** Why {@code h} found no buffer, for its ENOMEM reply; logged as a refusal too. */
    String refuse(RequestHeader h) {
        String message = "server out of payload buffers: this connection holds " + mine.get() + " bytes (at most "
                + share + "), the server " + budget.used() + " of " + budget.limit()
                + " (the payload budget, --payload-budget)";
        NbdServer.refusal(
                "payload",
                "connection " + connection + ": " + NbdProtocol.commandName(h.type) + " of " + h.length
                        + " bytes refused with ENOMEM: " + message);
        return message;
    }
}
