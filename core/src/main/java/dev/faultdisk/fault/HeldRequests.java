package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.net.RateLimitedLog;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The requests an export's hang rules and triggers hold: each waits on its own latch until it is
 * released (in an order), failed, dropped with its connection, or its timeout passes, and counts
 * against the budgets of requests and write bytes held at once. Listeners hear of every hold's end.
 */
final class HeldRequests {
    /** How long {@link #release} waits for each released request to finish before releasing the next. */
    private static final Duration RELEASE_STEP = Duration.ofSeconds(2);

    /** The engine's logger: its warnings kept the name users filter by when they moved here. */
    private static final System.Logger LOG = System.getLogger(FaultEngine.class.getName());

    private static final RateLimitedLog REFUSALS = new RateLimitedLog(LOG, 10_000);

    private final String export;
    private final FaultTime time;
    private final List<FaultListener> listeners;
    private final AtomicLong nextHoldId = new AtomicLong(1);
    private final ConcurrentSkipListMap<Long, Hold> held = new ConcurrentSkipListMap<>();
    private final AtomicLong heldBytes = new AtomicLong();
    private volatile boolean shutdown;
    private volatile int maxHeld = FaultEngine.DEFAULT_MAX_HELD;
    private volatile long maxHeldBytes = FaultEngine.DEFAULT_MAX_HELD_BYTES;
    /** Applied to holds that name no timeout (0: none); see {@link #defaultHoldTimeout}. */
    private volatile long defaultHoldNanos;

    private volatile String defaultHoldSource = "";

    /** {@code listeners}: the engine's, shared (a list safe to iterate while it changes). */
    HeldRequests(String export, FaultTime time, List<FaultListener> listeners) {
        this.export = export;
        this.time = time;
        this.listeners = listeners;
    }

    /** The budgets: requests held at once, and the bytes of the writes among them. */
    void limits(int maxHeld, long maxHeldBytes) {
        this.maxHeld = maxHeld;
        this.maxHeldBytes = maxHeldBytes;
    }

    /** A held request's hold: its latch, what to do when it opens, and when it finished. */
    static final class Hold {
        final HeldRequest view;
        final CountDownLatch released = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);
        volatile int errno;

        Hold(HeldRequest view) {
            this.view = view;
        }
    }

    /** See {@link FaultEngine#defaultHoldTimeout}. */
    void defaultHoldTimeout(long nanos, String source) {
        if (nanos < 0) {
            throw new IllegalArgumentException("hold timeout must not be negative");
        }
        defaultHoldSource = source;
        defaultHoldNanos = nanos;
    }

    /**
     * Holds the calling request until it is released, failed, or its timeout passes. Returns the
     * errno to fail it with, or 0 to let it run.
     */
    int hold(FaultCall call, Firing firing, HangFault hang) throws IOException {
        BlockRequest r = call.request();
        if (!takeHoldBudget(r)) {
            return Errno.ENOMEM;
        }
        Hold h = new Hold(new HeldRequest(
                nextHoldId.getAndIncrement(),
                export,
                firing.rule().id(),
                0,
                r,
                time.clock().instant()));
        call.hold = h;
        held.put(h.view.id(), h);
        if (shutdown) {
            finish(h, "failed", Errno.ESHUTDOWN);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("held", h.view.id());
        if (hang.timeoutNanos() > 0) {
            details.put("timeout-ms", hang.timeoutNanos() / 1e6);
        }
        call.record(firing, "held", details);
        long byDefault = hang.timeoutNanos() > 0 ? 0 : defaultHoldNanos;
        return await(
                h, byDefault > 0 ? byDefault : hang.timeoutNanos(), hang.failOnTimeout() ? hang.errno() : 0, byDefault);
    }

    /**
     * Counts a request about to be held against the budgets; false (and a rate-limited log line)
     * if it would pass one: it then fails with ENOMEM instead of being held.
     */
    private boolean takeHoldBudget(BlockRequest r) {
        long bytes = r.op() == BlockOp.WRITE ? r.length() : 0;
        boolean fits = held.size() < maxHeld;
        if (fits && heldBytes.addAndGet(bytes) > maxHeldBytes) {
            heldBytes.addAndGet(-bytes);
            fits = false;
        }
        if (!fits) {
            REFUSALS.log(
                    System.Logger.Level.WARNING,
                    export,
                    "export " + export + ": " + r.op() + " at " + r.offset() + " not held but failed with ENOMEM: "
                            + held.size() + " requests (" + heldBytes.get()
                            + " bytes of writes) are held, the limit is "
                            + maxHeld + " (" + maxHeldBytes + " bytes; max-held, max-held-bytes)");
            return false;
        }
        return true;
    }

    /** See {@link FaultEngine#dropConnection}. */
    int dropConnection(long connection) {
        int dropped = 0;
        for (Hold h : held.values()) {
            if (h.view.request().connection() == connection && finish(h, "dropped", Errno.ECONNRESET)) {
                dropped++;
            }
        }
        return dropped;
    }

    /** See {@link FaultEngine#holdForTrigger}. */
    void holdForTrigger(BlockRequest r, long trigger, long timeoutNanos, FaultEngine.Resumed then) throws IOException {
        if (!takeHoldBudget(r)) {
            then.run(Errno.ENOMEM);
            return;
        }
        Hold h = new Hold(new HeldRequest(
                nextHoldId.getAndIncrement(),
                export,
                0,
                trigger,
                r,
                time.clock().instant()));
        held.put(h.view.id(), h);
        if (shutdown) {
            finish(h, "failed", Errno.ESHUTDOWN);
        }
        try {
            long byDefault = timeoutNanos > 0 ? 0 : defaultHoldNanos;
            then.run(await(h, byDefault > 0 ? byDefault : timeoutNanos, 0, byDefault));
        } finally {
            h.done.countDown();
        }
    }

    /** {@code byDefault}: the default hold timeout when it is the one that applies, else 0. */
    private int await(Hold h, long timeoutNanos, int errnoOnTimeout, long byDefault) throws IOException {
        Instant deadline = timeoutNanos > 0 ? h.view.since().plusNanos(timeoutNanos) : null;
        boolean opened;
        try {
            opened = time.sleeper().await(h.released, deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (held.remove(h.view.id(), h)) {
                unheld(h);
            }
            throw new InterruptedIOException("interrupted while held (hold " + h.view.id() + ")");
        }
        if (!opened && held.remove(h.view.id(), h)) {
            unheld(h);
            int errno = errnoOnTimeout;
            if (byDefault > 0) {
                HeldRequest v = h.view;
                String outcome = errno != 0 ? "failed with " + Errno.name(errno) : "let go";
                LOG.log(
                        System.Logger.Level.WARNING,
                        () -> String.format(
                                "%s: request %d (%s of %d bytes at %d), held by %s without a timeout, was %s after"
                                        + " %d ms by the default hold timeout (%s)",
                                export,
                                v.id(),
                                v.request().op().wireName(),
                                v.request().length(),
                                v.request().offset(),
                                v.rule() != 0 ? "fault rule " + v.rule() : "trigger " + v.trigger(),
                                outcome,
                                byDefault / 1_000_000,
                                defaultHoldSource));
            }
            for (FaultListener l : listeners) {
                l.released(h.view, "expired", errno);
            }
            return errno;
        }
        try {
            h.released.await(); // released concurrently with the timeout: take the release's outcome
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while held");
        }
        return h.errno;
    }

    /** Requests held now, oldest first. */
    List<HeldRequest> list() {
        List<HeldRequest> out = new ArrayList<>();
        for (Hold h : held.values()) {
            out.add(h.view);
        }
        return out;
    }

    /** See {@link FaultEngine#release}. */
    List<HeldRequest> release(List<Long> ids, FaultEngine.Order order, int errno, long shuffleSeed) {
        List<Hold> chosen = new ArrayList<>();
        if (ids == null) {
            if (order == FaultEngine.Order.GIVEN) {
                throw new IllegalArgumentException("order 'given' needs ids");
            }
            chosen.addAll(held.values());
        } else {
            for (long id : new LinkedHashSet<>(ids)) {
                Hold h = held.get(id);
                if (h == null) {
                    throw new IllegalArgumentException("no held request " + id + " on export '" + export + "'");
                }
                chosen.add(h);
            }
        }
        switch (order) {
            case FIFO -> chosen.sort(Comparator.comparingLong(h -> h.view.id()));
            case LIFO ->
                chosen.sort(Comparator.comparingLong((Hold h) -> h.view.id()).reversed());
            case GIVEN -> {}
            case RANDOM -> {
                chosen.sort(Comparator.comparingLong(h -> h.view.id()));
                SplittableRandom random = new SplittableRandom(shuffleSeed);
                for (int i = chosen.size() - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    Hold t = chosen.get(i);
                    chosen.set(i, chosen.get(j));
                    chosen.set(j, t);
                }
            }
        }
        List<HeldRequest> released = new ArrayList<>();
        for (Hold h : chosen) {
            if (finish(h, errno == 0 ? "released" : "failed", errno)) {
                released.add(h.view);
                try {
                    h.done.await(RELEASE_STEP.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return released;
    }

    private void unheld(Hold h) {
        BlockRequest r = h.view.request();
        if (r.op() == BlockOp.WRITE) {
            heldBytes.addAndGet(-r.length());
        }
    }

    /** Opens a hold with an outcome; false if it had already left. */
    private boolean finish(Hold h, String how, int errno) {
        if (!held.remove(h.view.id(), h)) {
            return false;
        }
        unheld(h);
        h.errno = errno;
        h.released.countDown();
        for (FaultListener l : listeners) {
            l.released(h.view, how, errno);
        }
        return true;
    }

    /** Lets go, as released, what the hang rules with these ids hold (the rules were removed). */
    void releaseHeldBy(Set<Long> ruleIds) {
        for (Hold h : held.values()) {
            if (ruleIds.contains(h.view.rule())) {
                finish(h, "released", 0);
            }
        }
    }

    /** The export is closing: fails everything held with ESHUTDOWN, and any later hold at once. */
    void shutdown() {
        shutdown = true;
        for (Hold h : held.values()) {
            finish(h, "failed", Errno.ESHUTDOWN);
        }
    }
}
