package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.LayerEngine;
import dev.faultdisk.device.TimedWaiter;
import dev.faultdisk.filemap.FileBinding;
import java.io.IOException;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * An export's fault rules and the requests they hold ({@link HeldRequests}). The rule set is an
 * immutable snapshot behind one volatile field: every change (add, remove, clear) publishes a new
 * snapshot at once, so a request sees the old set or the new one, never half of a change. Rules
 * are parsed before anything changes, so a bad rule leaves the set as it was.
 *
 * <p>Ids count up per export. A rule without a seed gets one derived from the engine's seed and
 * its id, so the same engine seed and the same sequence of changes give the same seeds.
 */
public final class FaultEngine implements LayerEngine {
    private final String export;
    private final long size;
    private final FaultTime time;
    private final long seed;
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    /** The file system mounted from the export, if bound: file targets and file names of faults. */
    private final FileBinding files = new FileBinding();

    private long nextRuleId = 1;
    private final List<FaultListener> listeners = new CopyOnWriteArrayList<>();
    private final HeldRequests holds;
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

    private volatile int maxRules = DEFAULT_MAX_RULES;

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
        this.holds = new HeldRequests(export, time, listeners);
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
            throw new IllegalArgumentException("fault budgets must be positive (maxRules " + maxRules + ", maxHeld "
                    + maxHeld + ", maxHeldBytes " + maxHeldBytes + ")");
        }
        this.maxRules = maxRules;
        holds.limits(maxHeld, maxHeldBytes);
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
        holds.releaseHeldBy(ids);
        for (FaultListener l : listeners) {
            l.rulesChanged(export, List.of(), removed);
        }
    }

    private void publish(List<FaultRule> rules) {
        FaultRule[] sorted = rules.toArray(new FaultRule[0]);
        Arrays.sort(
                sorted, Comparator.comparing((FaultRule r) -> r.fault().stage()).thenComparingLong(FaultRule::id));
        boolean blocking = false;
        boolean untimed = false;
        for (FaultRule r : sorted) {
            Stage stage = r.fault().stage();
            blocking |= stage.blocks();
            untimed |= stage.blocks() && !stage.timed();
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

    /** What runs a request a trigger holds once it is let go: with 0, or the errno to fail it with. */
    @FunctionalInterface
    public interface Resumed {
        void run(int errno) throws IOException;
    }

    /** What the export's hang rules and triggers hold. */
    HeldRequests holds() {
        return holds;
    }

    /**
     * Bounds every hold that names no timeout (a hang rule without timeout-ms, a trigger's hold
     * without one) to {@code nanos}, 0 for none: a harness that forgot to release one would wait
     * for ever. A hang rule's request then fails with its errno, a trigger's runs; each such
     * expiry is logged as a warning naming {@code source}, which says where the bound was set.
     */
    public void defaultHoldTimeout(long nanos, String source) {
        holds.defaultHoldTimeout(nanos, source);
    }

    /**
     * The connection {@code connection} closed: what it has held is dropped, failing without
     * reaching the disk (nobody is left to answer), and its budget is freed. Returns how many.
     */
    public int dropConnection(long connection) {
        return holds.dropConnection(connection);
    }

    /**
     * Holds a request that trigger {@code trigger} acts on, as a hang rule would: it is listed by
     * {@link #held()} and let go by {@link #release} (which waits for it to finish, as for a
     * rule's), or after {@code timeoutNanos} (0: never), when it runs.
     */
    public void holdForTrigger(BlockRequest r, long trigger, long timeoutNanos, Resumed then) throws IOException {
        holds.holdForTrigger(r, trigger, timeoutNanos, then);
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
        return holds.list();
    }

    /**
     * Releases held requests one at a time in {@code order}, each after the previous one finished
     * (up to 2 s each), so the order is the order their I/O happens. {@code errno} 0 lets them
     * run; otherwise they fail with it. {@code ids} null means all.
     *
     * @throws IllegalArgumentException for an unknown id; nothing is released then
     */
    public List<HeldRequest> release(List<Long> ids, Order order, int errno, long shuffleSeed) {
        return holds.release(ids, order, errno, shuffleSeed);
    }

    /**
     * The export is closing: drops every rule (so the final flush meets none), fails everything
     * held with ESHUTDOWN, and any later hold at once.
     */
    @Override
    public void shutdown() {
        synchronized (this) {
            publish(List.of());
        }
        holds.shutdown();
    }

    static DeviceException failure(int errno, String what, long offset) {
        return new DeviceException(errno, what, offset);
    }
}
