package dev.faultdisk.wire.net;

import java.lang.System.Logger.Level;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Log lines that a client can provoke at will (refusals over a budget, failed accepts), at most
 * one per kind per interval: the next line says how many were left out. A flood of bad clients
 * must not turn into a flood of log.
 */
public final class RateLimitedLog {
    private final System.Logger log;
    private final long intervalNanos;
    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();

    private static final class Slot {
        final AtomicLong next = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong suppressed = new AtomicLong();
    }

    public RateLimitedLog(System.Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    /** Logs {@code message} under {@code kind} unless one of that kind went out within the interval. */
    public void log(Level level, String kind, String message) {
        Slot slot = slots.computeIfAbsent(kind, k -> new Slot());
        long now = System.nanoTime();
        long next = slot.next.get();
        if ((next != Long.MIN_VALUE && now - next < 0) || !slot.next.compareAndSet(next, now + intervalNanos)) {
            slot.suppressed.incrementAndGet();
            return;
        }
        long left = slot.suppressed.getAndSet(0);
        log.log(level, left == 0 ? message : message + " (" + left + " more like it not logged)");
    }
}
