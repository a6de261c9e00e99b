package dev.faultdisk.client;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The events a client received: queued until someone awaits them (so an event that arrives
 * before the wait starts is not missed), and handed to listeners on a thread of their own (so a
 * listener may call the client without blocking the reader).
 */
final class EventQueue {
    private static final System.Logger LOG = System.getLogger(EventQueue.class.getName());

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Event> queue = new ArrayDeque<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private long sequence;
    private long dropped;
    private long serverDropped;
    private String endedBecause;
    private ExecutorService dispatcher;

    EventQueue(int capacity) {
        this.capacity = capacity;
    }

    void add(String name, Map<String, Object> data, Instant timestamp) {
        Event event;
        lock.lock();
        try {
            event = new Event(name, data, timestamp, ++sequence);
            if (FaultdiskClient.EVENTS_DROPPED.equals(name) && data.get("count") instanceof Number count) {
                serverDropped += count.longValue();
            }
            queue.addLast(event);
            if (queue.size() > capacity) {
                queue.removeFirst();
                dropped++;
            }
            changed.signalAll();
            if (!listeners.isEmpty()) {
                dispatcher().execute(() -> deliver(event));
            }
        } finally {
            lock.unlock();
        }
    }

    private void deliver(Event event) {
        for (Consumer<Event> l : listeners) {
            try {
                l.accept(event);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "event listener failed on " + event.name(), e);
            }
        }
    }

    private ExecutorService dispatcher() {
        if (dispatcher == null) {
            dispatcher = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "faultdisk-client-events");
                t.setDaemon(true);
                return t;
            });
        }
        return dispatcher;
    }

    Subscription listen(Consumer<Event> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
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

    long lastSequence() {
        return read(() -> sequence);
    }

    /** Why an awaited event may never have come, for a timeout's message; caller holds the lock. */
    private String lost() {
        String why = "";
        if (serverDropped > 0) {
            why += "; the server dropped " + serverDropped + " events for this client, which fell behind";
        }
        if (dropped > 0) {
            why += "; " + dropped + " events left this client's queue unread (it holds " + capacity + ")";
        }
        return why;
    }

    /** Events the server did not send: the sum of its {@value FaultdiskClient#EVENTS_DROPPED} counts. */
    long serverDropped() {
        return read(() -> serverDropped);
    }

    long dropped() {
        return read(() -> dropped);
    }

    /**
     * Removes and returns the oldest queued event after sequence number {@code after} that
     * matches, waiting up to {@code timeout} for one to arrive.
     */
    Event await(long after, Predicate<Event> match, Duration timeout, String what) {
        long remaining = timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                for (Iterator<Event> it = queue.iterator(); it.hasNext(); ) {
                    Event e = it.next();
                    if (e.sequence() > after && match.test(e)) {
                        it.remove();
                        return e;
                    }
                }
                if (endedBecause != null) {
                    throw new QmpConnectionException(
                            "connection ended while waiting for " + what + ": " + endedBecause);
                }
                if (remaining <= 0) {
                    throw new FaultdiskTimeoutException(
                            "no " + what + " within " + timeout.toMillis() + " ms" + lost());
                }
                remaining = changed.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for " + what);
        } finally {
            lock.unlock();
        }
    }

    /** Removes and returns every queued event. */
    List<Event> drain() {
        lock.lock();
        try {
            List<Event> all = new ArrayList<>(queue);
            queue.clear();
            return all;
        } finally {
            lock.unlock();
        }
    }

    /** No more events will come; waiters fail with {@code why}. */
    void end(String why) {
        lock.lock();
        try {
            endedBecause = why;
            changed.signalAll();
            if (dispatcher != null) {
                dispatcher.shutdown();
            }
        } finally {
            lock.unlock();
        }
    }
}
