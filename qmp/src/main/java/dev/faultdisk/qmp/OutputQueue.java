package dev.faultdisk.qmp;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * A session's outgoing lines, bounded in bytes. Responses wait for room (the session stops
 * reading, as QEMU's monitor does); events never wait: one with no room is dropped and counted,
 * and so is every later one until the queue has drained to half its bound and the count's notice
 * is queued ({@link #offerDropNotice}). So the notice comes before any event after the gap, and a
 * client that keeps falling behind gets runs of events between notices, not a notice per line. A
 * single line larger than the bound still fits into an empty queue.
 *
 * <p>A flood of events is written in batches: when an event comes less than the linger after
 * the writer last emptied the queue (events are flowing), the writer waits up to the linger for
 * more before taking them all ({@link #takeBatch}), so that one write and one wake-up carry many
 * events instead of one each. A queued reply, the queue filling to half its bound, closing or
 * finishing end the wait at once; a lone event goes out at once.
 *
 * <p>Events are taken only once the reply that ends negotiation is queued ({@link
 * #putOpeningEvents}). Both happen under the queue's one lock, so no event overtakes that reply,
 * and an event emitted as soon as the client has read it (which it can do only after the lock is
 * released) is queued, not missed.
 */
final class OutputQueue {
    /** What became of an event. */
    enum EventOutcome {
        QUEUED,
        /** Not taken and not lost: negotiation has not ended, or the queue is ending. */
        IGNORED,
        /** No room: dropped and counted. */
        DROPPED
    }

    /** About the length of a notice line, to judge room for one without building it. */
    private static final int NOTICE_BYTES = 128;

    private final long maxBytes;
    private final long lingerNanos;
    private final LongSupplier nanoClock;
    private final ArrayDeque<byte[]> lines = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    /** Ends a linger: signalled by a reply, half a queue of events, closing or finishing, never by each event. */
    private final Condition lingerOver = lock.newCondition();

    private long bytes;
    private boolean closed;
    private boolean finishing;
    private boolean eventsOpen;
    /** Events dropped since the last notice. */
    private long dropped;
    /** Whether the last take left room for a waiting notice; written and read by the taking thread. */
    private boolean noticeDue;
    /** Events dropped in all. */
    private long droppedTotal;
    /** Lines taken so far: the writer's progress. */
    private long taken;
    /** Lines added so far. */
    private long added;
    /** The number ({@link #added}) of the last reply line added: one is queued while it exceeds {@link #taken}. */
    private long lastReply;
    /** {@link #nanoClock} at the last take that emptied the queue; guarded by the lock. */
    private long lastEmptied;
    /** The last take left lines queued (the batch was full): the writer is behind and takes the rest at once. */
    private boolean leftOver;
    /** The writer has taken a batch and not yet come back for the next: it may be writing. */
    private boolean writing;
    /** A reply is being written by the thread that made it ({@link #claimDirect}); the writer waits. */
    private boolean direct;

    /** A queue that writes every line as soon as it can (no linger). */
    OutputQueue(long maxBytes) {
        this(maxBytes, 0, System::nanoTime);
    }

    /**
     * @param maxBytes    the bound on queued bytes
     * @param lingerNanos how long the writer waits for more events while they flow (0: never)
     * @param nanoClock   what tells whether events flow ({@link System#nanoTime()})
     */
    OutputQueue(long maxBytes, long lingerNanos, LongSupplier nanoClock) {
        this.maxBytes = maxBytes;
        this.lingerNanos = lingerNanos;
        this.nanoClock = nanoClock;
        this.lastEmptied = nanoClock.getAsLong() - lingerNanos;
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

    /** Adds an event line if events are open and there is room now, else drops and counts it. */
    EventOutcome offerEvent(byte[] line) {
        lock.lock();
        try {
            // Before negotiation ends the session takes no events: nothing to queue, nothing lost.
            if (!eventsOpen || closed || finishing) {
                return EventOutcome.IGNORED;
            }
            if (dropped > 0 || !fits(line)) {
                dropped++;
                droppedTotal++;
                return EventOutcome.DROPPED;
            }
            add(line);
            return EventOutcome.QUEUED;
        } finally {
            lock.unlock();
        }
    }

    /** For the thread that takes lines: whether its last take left room for a waiting notice. */
    boolean noticeDue() {
        return noticeDue;
    }

    /**
     * Queues the notice of the events dropped since the last one, if there is room for it now.
     *
     * @param notice the notice's line, given the count
     * @return whether a notice was queued
     */
    boolean offerDropNotice(LongFunction<byte[]> notice) {
        lock.lock();
        try {
            if (dropped == 0 || closed || finishing) {
                return false;
            }
            byte[] line = notice.apply(dropped);
            if (!roomForNotice(line.length)) {
                return false;
            }
            addReply(line); // the notice is due now: it ends a linger as a reply does
            dropped = 0;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Events dropped in all, noticed or not. */
    long eventsDropped() {
        return read(() -> droppedTotal);
    }

    /** Lines the writer has taken so far. */
    long taken() {
        return read(() -> taken);
    }

    private boolean offerLocked(byte[] line) {
        if (closed || finishing || !fits(line)) {
            return false;
        }
        addReply(line);
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
        return read(() -> eventsOpen ? 1 : 0) == 1;
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
            addReply(line);
            eventsOpen |= openEvents;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lets the thread that made a reply write it itself, at once, when nothing is queued and the
     * writer is not writing: the reply then costs no wake-up of the writer. The caller writes the
     * line and then calls {@link #directDone()}; until then the writer takes nothing, so lines
     * queued meanwhile (events) follow the reply. False when lines are queued, the writer is
     * writing, or the queue is closed or finishing: then the reply is {@link #put} instead.
     *
     * @param openEvents the reply ends negotiation: events are taken from now on (as {@link
     *     #putOpeningEvents})
     */
    boolean claimDirect(boolean openEvents) {
        lock.lock();
        try {
            if (direct || writing || !lines.isEmpty() || closed || finishing) {
                return false;
            }
            direct = true;
            added++;
            taken++;
            lastReply = added;
            eventsOpen |= openEvents;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The reply claimed with {@link #claimDirect} is written (or its write failed). */
    void directDone() {
        lock.lock();
        try {
            direct = false;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The queued lines, up to {@code maxBatchBytes} of them (at least one), waiting for one; null
     * once closed, or once finishing and empty. If events are flowing (the last take emptied the
     * queue less than the linger ago), waits up to the linger for more first, unless a reply is
     * queued (see the class).
     */
    List<byte[]> takeBatch(int maxBatchBytes) throws InterruptedException {
        lock.lock();
        try {
            writing = false;
            while (!closed && (direct || (lines.isEmpty() && !finishing))) {
                notEmpty.await();
            }
            if (lingerNanos > 0 && !leftOver && nanoClock.getAsLong() - lastEmptied < lingerNanos) {
                long left = lingerNanos;
                while (left > 0 && !closed && !finishing && lastReply <= taken && bytes < maxBytes / 2) {
                    left = lingerOver.awaitNanos(left);
                }
            }
            if (closed || lines.isEmpty()) {
                return null;
            }
            List<byte[]> batch = new ArrayList<>();
            long size = 0;
            while (!lines.isEmpty() && (batch.isEmpty() || size + lines.peek().length <= maxBatchBytes)) {
                byte[] line = lines.poll();
                size += line.length;
                batch.add(line);
            }
            bytes -= size;
            taken += batch.size();
            leftOver = !lines.isEmpty();
            if (!leftOver) {
                lastEmptied = nanoClock.getAsLong();
            }
            noticeDue = dropped > 0 && roomForNotice(NOTICE_BYTES);
            writing = true;
            notFull.signalAll();
            return batch;
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
            lingerOver.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes queued now. */
    long bytes() {
        return read(() -> bytes);
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            lines.clear();
            bytes = 0;
            notEmpty.signalAll();
            notFull.signalAll();
            lingerOver.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A field read under the lock. */
    private long read(LongSupplier field) {
        lock.lock();
        try {
            return field.getAsLong();
        } finally {
            lock.unlock();
        }
    }

    /** Room for a notice: the queue has drained to half its bound (hysteresis, see the class). */
    private boolean roomForNotice(int length) {
        return bytes == 0 || bytes + length <= maxBytes / 2;
    }

    private boolean fits(byte[] line) {
        return bytes == 0 || bytes + line.length <= maxBytes;
    }

    private void add(byte[] line) {
        lines.add(line);
        added++;
        bytes += line.length;
        notEmpty.signal();
        if (bytes >= maxBytes / 2) {
            lingerOver.signal();
        }
    }

    /** Adds a line that is not an event: the writer takes it without lingering. */
    private void addReply(byte[] line) {
        add(line);
        lastReply = added;
        lingerOver.signal();
    }
}
