package dev.faultdisk.qmp;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A session's outgoing lines, bounded in bytes. Responses wait for room (the session stops
 * reading, as QEMU's monitor does); events never wait: if there is no room the caller drops the
 * session. A single line larger than the bound still fits into an empty queue.
 *
 * <p>Events are taken only once the reply that ends negotiation is queued ({@link
 * #putOpeningEvents}). Both happen under the queue's one lock, so no event overtakes that reply,
 * and an event emitted as soon as the client has read it (which it can do only after the lock is
 * released) is queued, not missed.
 */
final class OutputQueue {
    private final long maxBytes;
    private final ArrayDeque<byte[]> lines = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private long bytes;
    private boolean closed;
    private boolean finishing;
    private boolean eventsOpen;

    OutputQueue(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Adds a line (the greeting) if there is room now; false if full or closed. */
    boolean offer(byte[] line) {
        lock.lock();
        try {
            return offerLocked(line);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds an event line if events are open and there is room now.
     *
     * @return false only if events are open and the line was not queued (full, or closed)
     */
    boolean offerEvent(byte[] line) {
        lock.lock();
        try {
            // Before negotiation ends the session takes no events: nothing to queue, no failure.
            return !eventsOpen || offerLocked(line);
        } finally {
            lock.unlock();
        }
    }

    private boolean offerLocked(byte[] line) {
        if (closed || finishing || !fits(line)) {
            return false;
        }
        add(line);
        return true;
    }

    /** Adds a reply line, waiting for room; false if the queue was closed first. */
    boolean put(byte[] line) throws InterruptedException {
        return put(line, false);
    }

    /** Adds the reply that ends negotiation and, in the same step, starts taking events. */
    boolean putOpeningEvents(byte[] line) throws InterruptedException {
        return put(line, true);
    }

    /** Whether events are taken: the reply that ends negotiation is queued. */
    boolean eventsOpen() {
        lock.lock();
        try {
            return eventsOpen;
        } finally {
            lock.unlock();
        }
    }

    private boolean put(byte[] line, boolean openEvents) throws InterruptedException {
        lock.lock();
        try {
            while (!closed && !finishing && !fits(line)) {
                notFull.await();
            }
            if (closed || finishing) {
                return false;
            }
            add(line);
            eventsOpen |= openEvents;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The next line, waiting for one; null once closed, or once finishing and empty. */
    byte[] take() throws InterruptedException {
        lock.lock();
        try {
            while (lines.isEmpty() && !closed && !finishing) {
                notEmpty.await();
            }
            if (closed || lines.isEmpty()) {
                return null;
            }
            byte[] line = lines.poll();
            bytes -= line.length;
            notFull.signalAll();
            return line;
        } finally {
            lock.unlock();
        }
    }

    /** Accepts nothing more; what is queued is still taken. */
    void finish() {
        lock.lock();
        try {
            finishing = true;
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** True if an offer failed for want of room rather than because the queue is ending. */
    boolean isFull() {
        lock.lock();
        try {
            return !closed && !finishing && bytes > 0;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes queued now. */
    long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            lines.clear();
            bytes = 0;
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private boolean fits(byte[] line) {
        return bytes == 0 || bytes + line.length <= maxBytes;
    }

    private void add(byte[] line) {
        lines.add(line);
        bytes += line.length;
        notEmpty.signal();
    }
}
