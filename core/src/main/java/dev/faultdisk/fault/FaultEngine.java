package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.LayerEngine;
import dev.faultdisk.device.TimedWaiter;
import dev.faultdisk.filemap.FileBinding;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An export's fault rules and the requests they hold. The rule set is an immutable snapshot
 * behind one volatile field: every change (add, remove, clear) publishes a new snapshot at once,
 * so a request sees the old set or the new one, never half of a change. Rules are parsed before
 * anything changes, so a bad rule leaves the set as it was.
 *
 * <p>Ids count up per export. A rule without a seed gets one derived from the engine's seed and
 * its id, so the same engine seed and the same sequence of changes give the same seeds.
 */
public final class FaultEngine implements LayerEngine {
    /** How long {@link #release} waits for each released request to finish before releasing the next. */
    private static final Duration RELEASE_STEP = Duration.ofSeconds(2);

    private static final System.Logger LOG = System.getLogger(FaultEngine.class.getName());

    private final String export;
    private final long size;
    private final FaultTime time;
    private final long seed;
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    /** The file system mounted from the export, if bound: file targets and file names of faults. */
    private final FileBinding files = new FileBinding();

    private long nextRuleId = 1;
    private final AtomicLong nextHoldId = new AtomicLong(1);
    private final ConcurrentSkipListMap<Long, Hold> held = new ConcurrentSkipListMap<>();
    private final List<FaultListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean shutdown;
    /** Applied to holds that name no timeout (0: none); see {@link #defaultHoldTimeout}. */
    private volatile long defaultHoldNanos;

    private volatile String defaultHoldSource = "";
    /** Opened by {@link #cutShortWaits}: what sleeps on it (delays, throttles) wakes at once. */
    private volatile CountDownLatch waits = new CountDownLatch(1);

    /**
     * The published rule set, in the order rules act, with its range index; {@code blocking}: a
     * rule may hold a request's thread; {@code untimed}: one may wait for something other than time.
     */
    record Snapshot(FaultRule[] rules, boolean blocking, boolean untimed, RuleIndex index) {
        static final Snapshot EMPTY = new Snapshot(new FaultRule[0], false, false, new RuleIndex(new FaultRule[0], 1));
    }

    /** Fault rules one export may have (a budget: each costs memory and matching time). */
    public static final int DEFAULT_MAX_RULES = 100_000;
    /** Requests held at once on one export, and their bytes. */
    public static final int DEFAULT_MAX_HELD = 1024;

    public static final long DEFAULT_MAX_HELD_BYTES = 256L << 20;
    private static final dev.faultdisk.wire.net.RateLimitedLog REFUSALS =
            new dev.faultdisk.wire.net.RateLimitedLog(LOG, 10_000);

    private volatile int maxRules = DEFAULT_MAX_RULES;
    private volatile int maxHeld = DEFAULT_MAX_HELD;
    private volatile long maxHeldBytes = DEFAULT_MAX_HELD_BYTES;
    private final AtomicLong heldBytes = new AtomicLong();

    /** How held requests are released. */
    public enum Order {
        /** Oldest first. */
        FIFO,
        /** Newest first. */
        LIFO,
        /** In the order the ids were given. */
        GIVEN,
        /** Shuffled with a seed. */
        RANDOM
    }

    public FaultEngine(String export, long size, FaultTime time, long seed) {
        this.export = export;
        this.size = size;
        this.time = time;
        this.seed = seed;
    }

    public String export() {
        return export;
    }

    public long size() {
        return size;
    }

    public FaultTime time() {
        return time;
    }

    /** The seed rules without their own seed derive theirs from. */
    public long seed() {
        return seed;
    }

    Snapshot snapshot() {
        return snapshot;
    }

    /** True while any rule exists. */
    public boolean isEngaged() {
        return snapshot.rules.length > 0;
    }

    /** True while a delay, hang or throttle rule exists: requests must then run where they may block. */
    @Override
    public boolean mayBlock() {
        return snapshot.blocking;
    }

    /** True unless a rule may wait for something other than time (a hang rule, waiting for its release). */
    public boolean timedWaitsOnly() {
        return !snapshot.untimed;
    }

    /** The export's file binding: rules aim at files through it, and records name files with it. */
    public FileBinding files() {
        return files;
    }

    /** Sets the budgets: rules on the export, requests held at once and their bytes. */
    public void limits(int maxRules, int maxHeld, long maxHeldBytes) {
        if (maxRules < 1 || maxHeld < 1 || maxHeldBytes < 1) {
            throw new IllegalArgumentException("fault budgets must be positive");
        }
        this.maxRules = maxRules;
        this.maxHeld = maxHeld;
        this.maxHeldBytes = maxHeldBytes;
    }

    public void addListener(FaultListener listener) {
        listeners.add(listener);
    }

    public void removeListener(FaultListener listener) {
        listeners.remove(listener);
    }

    // ---- rule set ----

    /**
     * Parses rules (JSON-like maps) and adds all of them in one change; on any error nothing is
     * added and a {@link FaultRuleException} names the offending member ({@code path[i].member}).
     */
    public List<FaultRule> add(List<?> rules, String path) {
        List<FaultRule> added;
        synchronized (this) {
            added = FaultRuleParser.parse(rules, path, size, nextRuleId, seed, files);
            if (snapshot.rules.length + added.size() > maxRules) {
                throw new FaultRuleException(
                        "export '" + export + "' has " + snapshot.rules.length + " fault rules and " + added.size()
                                + " more would pass the limit of " + maxRules + " (max-rules)");
            }
            nextRuleId += added.size();
            if (added.isEmpty()) {
                return added;
            }
            for (FaultRule r : added) {
                r.activate(time);
            }
            List<FaultRule> all = new ArrayList<>(Arrays.asList(snapshot.rules));
            all.addAll(added);
            publish(all);
        }
        for (FaultListener l : listeners) {
            l.rulesChanged(export, added, List.of());
        }
        return added;
    }

    /**
     * Adds the rules a preset composes ({@link Presets}), with the same guarantees as {@link #add};
     * {@code path} names the preset's parameters in messages.
     */
    public List<FaultRule> addPreset(String preset, Map<String, ?> params, String path) {
        return add(Presets.rules(preset, params, path), preset);
    }

    /**
     * Removes the rules with these ids in one change, releasing what their hang rules hold.
     *
     * @throws IllegalArgumentException naming the first unknown id; nothing is removed then
     */
    public List<FaultRule> remove(Collection<Long> ids) {
        List<FaultRule> removed = new ArrayList<>();
        synchronized (this) {
            Set<Long> wanted = new LinkedHashSet<>(ids);
            List<FaultRule> kept = new ArrayList<>();
            for (FaultRule r : snapshot.rules) {
                if (wanted.remove(r.id())) {
                    removed.add(r);
                } else {
                    kept.add(r);
                }
            }
            if (!wanted.isEmpty()) {
                throw new IllegalArgumentException(
                        "no fault rule " + wanted.iterator().next() + " on export '" + export + "'");
            }
            publish(kept);
        }
        afterRemoval(removed);
        return removed;
    }

    /** Removes every rule in one change; returns them. */
    public List<FaultRule> clear() {
        List<FaultRule> removed;
        synchronized (this) {
            removed = List.of(snapshot.rules);
            publish(List.of());
        }
        afterRemoval(removed);
        return removed;
    }

    private void afterRemoval(List<FaultRule> removed) {
        if (removed.isEmpty()) {
            return;
        }
        Set<Long> ids = new HashSet<>();
        for (FaultRule r : removed) {
            ids.add(r.id());
        }
        for (Hold h : held.values()) {
            if (ids.contains(h.view.rule())) {
                finish(h, "released", 0);
            }
        }
        for (FaultListener l : listeners) {
            l.rulesChanged(export, List.of(), removed);
        }
    }

    private void publish(List<FaultRule> rules) {
        FaultRule[] sorted = rules.toArray(new FaultRule[0]);
        Arrays.sort(
                sorted,
                Comparator.comparingInt((FaultRule r) -> r.fault().order()).thenComparingLong(FaultRule::id));
        boolean blocking = false;
        boolean untimed = false;
        for (FaultRule r : sorted) {
            blocking |= r.fault().blocks();
            untimed |= r.fault().blocks() && !r.fault().timed();
        }
        snapshot = sorted.length == 0
                ? Snapshot.EMPTY
                : new Snapshot(sorted, blocking, untimed, new RuleIndex(sorted, size));
    }

    /** The rules, by id. */
    public List<FaultRule> rules() {
        FaultRule[] rules = snapshot.rules.clone();
        Arrays.sort(rules, Comparator.comparingLong(FaultRule::id));
        return List.of(rules);
    }

    // ---- recording ----

    void record(FaultCall call, Firing firing, String action, Map<String, Object> details) {
        FaultRule rule = firing.rule();
        rule.countFired();
        BlockRequest r = call.request();
        FaultRecord record = new FaultRecord(
                time.clock().instant(),
                export,
                rule.id(),
                rule.type().name(),
                rule.label(),
                r.op(),
                r.offset(),
                r.length(),
                r.connection(),
                action,
                details,
                rule.seed(),
                firing.match(),
                rule.events(),
                files.name(r.offset(), r.length()));
        for (FaultListener l : listeners) {
            l.injected(record);
        }
    }

    // ---- held requests ----

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

    /**
     * Bounds every hold that names no timeout (a hang rule without timeout-ms, a trigger's hold
     * without one) to {@code nanos}, 0 for none: a harness that forgot to release one would wait
     * for ever. A hang rule's request then fails with its errno, a trigger's runs; each such
     * expiry is logged as a warning naming {@code source}, which says where the bound was set.
     */
    public void defaultHoldTimeout(long nanos, String source) {
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
        Map<String, Object> details = new java.util.LinkedHashMap<>();
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
        long bytes = r.op() == dev.faultdisk.wire.BlockOp.WRITE ? r.length() : 0;
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

    /**
     * The connection {@code connection} closed: what it has held is dropped, failing without
     * reaching the disk (nobody is left to answer), and its budget is freed. Returns how many.
     */
    public int dropConnection(long connection) {
        int dropped = 0;
        for (Hold h : held.values()) {
            if (h.view.request().connection() == connection && finish(h, "dropped", Errno.ECONNRESET)) {
                dropped++;
            }
        }
        return dropped;
    }

    /** What runs a request a trigger holds once it is let go: with 0, or the errno to fail it with. */
    @FunctionalInterface
    public interface Resumed {
        void run(int errno) throws IOException;
    }

    /**
     * Holds a request that trigger {@code trigger} acts on, as a hang rule would: it is listed by
     * {@link #held()} and let go by {@link #release} (which waits for it to finish, as for a
     * rule's), or after {@code timeoutNanos} (0: never), when it runs.
     */
    public void holdForTrigger(BlockRequest r, long trigger, long timeoutNanos, Resumed then) throws IOException {
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

    /**
     * Sleeps until {@code deadline} on the fault clock, or until {@link #cutShortWaits}: the
     * export's delays (rules' and triggers') sleep here.
     */
    public void sleepUntil(Instant deadline) throws InterruptedException {
        time.sleeper().await(waits, deadline);
    }

    /**
     * Runs {@code task} once the fault clock reads {@code deadlineNanos}, or at {@link
     * #cutShortWaits}, on the clock's timer: the delays and throttles of submitted requests wait
     * here, holding no thread.
     */
    void schedule(long deadlineNanos, Runnable task) {
        time.sleeper().schedule(Instant.ofEpochSecond(0, deadlineNanos), waits, task);
    }

    /**
     * As {@link #schedule(long, Runnable)}, but on real time {@code waiter} (if any, and if it takes
     * it) waits instead of the timer and runs {@code onWaiter} itself.
     */
    void schedule(long deadlineNanos, Runnable task, TimedWaiter waiter, Runnable onWaiter) {
        if (waiter != null && time.sleeper().realTime()) {
            long in = deadlineNanos - time.nanos();
            if (waiter.schedule(System.nanoTime() + Math.max(0, in), waits, onWaiter)) {
                return;
            }
        }
        schedule(deadlineNanos, task);
    }

    /** Ends every delay and throttle wait now under way (a reset); later ones sleep as usual. */
    public void cutShortWaits() {
        CountDownLatch open = waits;
        waits = new CountDownLatch(1);
        open.countDown();
        time.sleeper().wake(open);
    }

    /** Requests held now, oldest first. */
    public List<HeldRequest> held() {
        List<HeldRequest> out = new ArrayList<>();
        for (Hold h : held.values()) {
            out.add(h.view);
        }
        return out;
    }

    /**
     * Releases held requests one at a time in {@code order}, each after the previous one finished
     * (up to 2 s each), so the order is the order their I/O happens. {@code errno} 0 lets them
     * run; otherwise they fail with it. {@code ids} null means all.
     *
     * @throws IllegalArgumentException for an unknown id; nothing is released then
     */
    public List<HeldRequest> release(List<Long> ids, Order order, int errno, long shuffleSeed) {
        List<Hold> chosen = new ArrayList<>();
        if (ids == null) {
            if (order == Order.GIVEN) {
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
        if (r.op() == dev.faultdisk.wire.BlockOp.WRITE) {
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

    /**
     * The export is closing: drops every rule (so the final flush meets none), fails everything
     * held with ESHUTDOWN, and any later hold at once.
     */
    @Override
    public void shutdown() {
        shutdown = true;
        synchronized (this) {
            publish(List.of());
        }
        for (Hold h : held.values()) {
            finish(h, "failed", Errno.ESHUTDOWN);
        }
    }

    static DeviceException failure(int errno, String what, long offset) {
        return new DeviceException(errno, what, offset);
    }
}
