package dev.faultdisk.trigger;

import dev.faultdisk.fault.FaultRuleException;
import dev.faultdisk.fault.RuleParams;
import dev.faultdisk.filemap.FileBinding;
import dev.faultdisk.wire.BlockOp;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The server's triggers, across all exports. Every export's stack offers each request to
 * {@link #onRequest} before the request goes on, and events to {@link #onEvent}. Conditions are
 * evaluated one observation at a time under one lock, so "the 21st write" is the 21st write the
 * server took in, whatever the pace. A trigger's command actions run before the request that fired
 * it goes on, and requests evaluated while they run wait for them (up to {@link #GATE_WAIT_NANOS}),
 * so nothing overtakes a firing; its request actions are returned to the caller to apply.
 *
 * <p>The set of active triggers is an immutable snapshot behind one volatile field, with an index
 * of the (export, operation) pairs any of them counts: a request nobody counts costs one volatile
 * read and two set lookups, no lock.
 */
public final class TriggerEngine {
    /** How many triggers may exist at once: each costs evaluation on every request it counts. */
    public static final int MAX_TRIGGERS = 1024;
    /** How long a request waits for another request's firing to finish its command actions. */
    static final long GATE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** How long a request waits for an earlier request of its connection to be counted first. */
    static final long TURN_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);

    static final int MAX_CONNECTIONS_TRACKED = 4096;

    private final InstantSource clock;
    private final CommandRunner runner;
    private final Object lock = new Object();
    /** Every trigger, by id, including those that fired as often as they may (until removed). */
    private final TreeMap<Long, Trigger> all = new TreeMap<>();

    private final List<TriggerListener> listeners = new CopyOnWriteArrayList<>();
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    private long nextId = 1;
    /** Firings whose command actions are running; guarded by {@link #lock}. */
    private int firing;
    /**
     * Per NBD connection, the sequence number of the latest request counted. Requests that run on
     * threads of their own are counted in arrival order by waiting under {@link #lock} for their
     * turn; a request that passes uncounted in its turn advances the number without the lock.
     * Entries are added and cleared under the lock. Bounded: past 4,096 connections all are
     * forgotten and start over.
     */
    private final Map<Long, AtomicLong> counted = new ConcurrentHashMap<>();
    /** Requests waiting for their turn (incremented under {@link #lock} before they check again). */
    private final AtomicInteger waiting = new AtomicInteger();

    /** Active triggers and what they count. */
    private record Snapshot(
            Trigger[] active,
            Map<String, Set<BlockOp>> byExport,
            Set<BlockOp> anyExport,
            boolean events,
            boolean waits,
            boolean blkdebugEvents) {
        static final Snapshot EMPTY = new Snapshot(new Trigger[0], Map.of(), Set.of(), false, false, false);
    }

    public TriggerEngine(InstantSource clock, CommandRunner runner) {
        this.clock = clock;
        this.runner = runner;
    }

    public void addListener(TriggerListener listener) {
        listeners.add(listener);
    }

    public void removeListener(TriggerListener listener) {
        listeners.remove(listener);
    }

    // ---- the trigger set ----

    /**
     * Parses triggers and adds all of them in one change; on any error nothing is added and a
     * {@link FaultRuleException} names the member ({@code triggers[1].when.ops}).
     *
     * @param exportSize the size of a named export, or empty if there is none
     */
    public List<Trigger> add(List<?> specs, String path, Function<String, OptionalLong> exportSize) {
        return add(specs, path, exportSize, name -> null);
    }

    /**
     * As {@link #add(List, String, Function)}, with the file bindings of the exports so that request
     * conditions may name a file with a "file" member (null: the export has none).
     */
    public List<Trigger> add(
            List<?> specs,
            String path,
            Function<String, OptionalLong> exportSize,
            Function<String, FileBinding> files) {
        List<Trigger> added = new ArrayList<>();
        synchronized (lock) {
            if (all.size() + specs.size() > MAX_TRIGGERS) {
                throw new FaultRuleException(
                        path + ": at most " + MAX_TRIGGERS + " triggers may exist at once (" + all.size() + " do)");
            }
            Instant now = clock.instant();
            for (int i = 0; i < specs.size(); i++) {
                added.add(TriggerParser.parse(
                        RuleParams.of(specs.get(i), path + "[" + i + "]"), nextId + i, now, exportSize, files, runner));
            }
            nextId += added.size();
            for (Trigger t : added) {
                all.put(t.id(), t);
            }
            publish();
        }
        notifyChanged(ids(added), List.of());
        return added;
    }

    /**
     * Removes triggers by id in one change.
     *
     * @throws IllegalArgumentException naming the first unknown id; nothing is removed then
     */
    public List<Trigger> remove(Collection<Long> ids) {
        List<Trigger> removed = new ArrayList<>();
        synchronized (lock) {
            for (long id : new LinkedHashSet<>(ids)) {
                if (!all.containsKey(id)) {
                    throw new IllegalArgumentException("no trigger " + id);
                }
            }
            for (long id : new LinkedHashSet<>(ids)) {
                removed.add(all.remove(id));
            }
            publish();
        }
        notifyChanged(List.of(), ids(removed));
        return removed;
    }

    /** Removes every trigger; returns them. */
    public List<Trigger> clear() {
        List<Trigger> removed;
        synchronized (lock) {
            removed = new ArrayList<>(all.values());
            all.clear();
            publish();
        }
        notifyChanged(List.of(), ids(removed));
        return removed;
    }

    /** The triggers as query-triggers shows them, by id. */
    public List<Map<String, Object>> describe() {
        synchronized (lock) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Trigger t : all.values()) {
                out.add(t.describe());
            }
            return out;
        }
    }

    /** The exports the triggers name (an export in use by a trigger can not be removed). */
    public Set<String> exportsInUse() {
        synchronized (lock) {
            Set<String> names = new LinkedHashSet<>();
            for (Trigger t : all.values()) {
                exportsOf(t, names);
            }
            return names;
        }
    }

    /** Removes, in one change, every trigger that names {@code export} (a reset of that export); returns them. */
    public List<Trigger> removeNaming(String export) {
        List<Trigger> removed = new ArrayList<>();
        synchronized (lock) {
            for (java.util.Iterator<Trigger> it = all.values().iterator(); it.hasNext(); ) {
                Trigger t = it.next();
                Set<String> names = new LinkedHashSet<>();
                exportsOf(t, names);
                if (names.contains(export)) {
                    it.remove();
                    removed.add(t);
                }
            }
            if (removed.isEmpty()) {
                return removed;
            }
            publish();
        }
        notifyChanged(List.of(), ids(removed));
        return removed;
    }

    /** Adds the exports {@code t}'s condition and command actions name to {@code names}. */
    private static void exportsOf(Trigger t, Set<String> names) {
        t.condition().exports(names);
        for (TriggerAction a : t.actions()) {
            if (a instanceof TriggerAction.Command c && c.arguments().get("device") instanceof String d) {
                names.add(d);
            }
        }
    }

    public int size() {
        synchronized (lock) {
            return all.size();
        }
    }

    private void publish() {
        List<Trigger> active = new ArrayList<>();
        Map<String, Set<BlockOp>> byExport = new HashMap<>();
        Set<BlockOp> any = EnumSet.noneOf(BlockOp.class);
        boolean events = false;
        boolean waits = false;
        boolean blkdebugEvents = false;
        for (Trigger t : all.values()) {
            if (t.exhausted()) {
                continue;
            }
            active.add(t);
            for (TriggerAction a : t.actions()) {
                waits |= a instanceof TriggerAction.Hold || a instanceof TriggerAction.Delay;
            }
            t.condition().requestInterests((export, ops) -> {
                if (export == null) {
                    any.addAll(ops);
                } else {
                    byExport.computeIfAbsent(export, e -> EnumSet.noneOf(BlockOp.class))
                            .addAll(ops);
                }
            });
            events |= hasEvent(t.condition(), null); // only a condition with an event leaf counts events
            blkdebugEvents |= hasEvent(t.condition(), Observation.Kind.BLKDEBUG_EVENT);
        }
        snapshot = active.isEmpty()
                ? Snapshot.EMPTY
                : new Snapshot(
                        active.toArray(new Trigger[0]),
                        Map.copyOf(byExport),
                        Set.copyOf(any),
                        events,
                        waits,
                        blkdebugEvents);
    }

    /** True if {@code c} has an event leaf of {@code kind} (null: of any kind). */
    private static boolean hasEvent(Condition c, Observation.Kind kind) {
        return switch (c) {
            case Condition.Event e -> kind == null || e.kind() == kind;
            case Condition.Requests r -> false;
            case Condition.Combined combined -> combined.parts().stream().anyMatch(p -> hasEvent(p, kind));
        };
    }

    // ---- evaluation ----

    /** True if any trigger is active: requests must then run where they may wait. */
    public boolean isEngaged() {
        return snapshot.active.length > 0;
    }

    /**
     * True while a trigger may hold or delay the request that fires it: requests must then run
     * where they may wait. (Command actions run where the request runs: they are short, and a
     * reader that waits for them is what "nothing overtakes a firing" asks.)
     */
    public boolean mayBlock() {
        return snapshot.waits;
    }

    /** True if a request with this operation on this export would be counted by some trigger. */
    public boolean watches(String export, BlockOp op) {
        Snapshot s = snapshot;
        if (s.active.length == 0) {
            return false;
        }
        if (s.anyExport.contains(op)) {
            return true;
        }
        Set<BlockOp> ops = s.byExport.get(export);
        return ops != null && ops.contains(op);
    }

    /** True if some trigger counts blkdebug events: every request must then fire its events. */
    public boolean watchesBlkdebugEvents() {
        return snapshot.blkdebugEvents;
    }

    /** True if some trigger counts events. */
    public boolean watchesEvents() {
        return snapshot.events;
    }

    /**
     * Offers a request about to run. Runs the command actions of every trigger it fires, in id
     * order, then returns the request actions to apply to it, in the same order (empty: go on).
     * Waits first while another firing's command actions run.
     */
    public List<RequestAction> onRequest(Observation request, long sequence) {
        List<Pending> fired;
        synchronized (lock) {
            awaitTurn(request.connection(), sequence);
            awaitGate();
            fired = evaluate(request);
            counted(request.connection(), sequence);
        }
        if (fired.isEmpty()) {
            return List.of();
        }
        List<RequestAction> onRequest = new ArrayList<>();
        run(fired, request, onRequest);
        return onRequest;
    }

    /**
     * A request no trigger counts went by, while triggers are engaged: later requests of its
     * connection need not wait for it. In its turn (every earlier request of its connection
     * counted, always so when they run one by one) it takes no lock.
     */
    public void pass(long connection, long sequence) {
        if (sequence <= 0) {
            return;
        }
        AtomicLong last = counted.get(connection);
        if (last != null && last.compareAndSet(sequence - 1, sequence)) {
            wakeWaiters();
            return;
        }
        synchronized (lock) {
            awaitTurn(connection, sequence);
            counted(connection, sequence);
        }
    }

    /** Caller holds the lock: waits until the connection's earlier requests were counted (or a while). */
    private void awaitTurn(long connection, long sequence) {
        if (sequence <= 0) {
            return;
        }
        AtomicLong lastCounted = counted.get(connection);
        if (lastCounted == null || sequence <= lastCounted.get() + 1) {
            return; // its turn, or the first request seen from this connection, which sets the count going
        }
        long deadline = System.nanoTime() + TURN_WAIT_NANOS;
        // Counted as waiting before checking again, so that a lock-free pass that advances the
        // number after this check sees a waiter and wakes it.
        waiting.incrementAndGet();
        try {
            while (sequence > lastCounted.get() + 1) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return; // an earlier request never came (its connection ended): do not stall
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                AtomicLong now = counted.get(connection);
                if (now == null) {
                    return; // forgotten meanwhile
                }
                lastCounted = now;
            }
        } finally {
            waiting.decrementAndGet();
        }
    }

    /** Caller holds the lock. */
    private void counted(long connection, long sequence) {
        if (sequence <= 0) {
            return;
        }
        AtomicLong last = counted.get(connection);
        if (last == null) {
            if (counted.size() >= MAX_CONNECTIONS_TRACKED) {
                counted.clear(); // bounded: connections long gone start over, as if first seen
            }
            counted.put(connection, new AtomicLong(sequence));
        } else if (last.getAndAccumulate(sequence, Math::max) < sequence) {
            wakeWaiters();
        }
    }

    private void wakeWaiters() {
        if (waiting.get() > 0) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    /** Offers an event; runs the command actions of every trigger it fires, on this thread. */
    public void onEvent(Observation event) {
        if (!snapshot.events) {
            return;
        }
        List<Pending> fired;
        synchronized (lock) {
            fired = evaluate(event);
        }
        if (!fired.isEmpty()) {
            run(fired, event, new ArrayList<>());
        }
    }

    private record Pending(Trigger trigger, long count, Instant time) {}

    /** Caller holds the lock. Marks a firing in progress if any trigger fires. */
    private List<Pending> evaluate(Observation o) {
        Trigger[] active = snapshot.active;
        if (active.length == 0) {
            return List.of();
        }
        Instant now = null;
        List<Pending> fired = null;
        boolean exhausted = false;
        for (Trigger t : active) {
            if (t.offer(o)) {
                if (fired == null) {
                    fired = new ArrayList<>(2);
                    now = clock.instant();
                }
                t.firedAt(now);
                fired.add(new Pending(t, t.fired(), now));
                t.running(true);
                exhausted |= t.exhausted();
            }
        }
        if (fired == null) {
            return List.of();
        }
        if (exhausted) {
            publish();
        }
        firing++;
        return fired;
    }

    /** Caller holds the lock. */
    private void awaitGate() {
        long deadline = System.nanoTime() + GATE_WAIT_NANOS;
        while (firing > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return; // a firing that takes this long must not stall the whole server
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void run(List<Pending> fired, Observation o, List<RequestAction> onRequest) {
        List<TriggerFiring> firings = new ArrayList<>();
        try {
            for (Pending p : fired) {
                List<Map<String, Object>> results = new ArrayList<>();
                for (TriggerAction a : p.trigger.actions()) {
                    Map<String, Object> result = new LinkedHashMap<>(a.describe());
                    if (a instanceof TriggerAction.Command c) {
                        try {
                            Object value = runner.run(c.execute(), c.arguments());
                            result.put("return", value == null ? Map.of() : value);
                        } catch (Exception e) {
                            result.put("error", String.valueOf(e.getMessage()));
                        }
                    } else {
                        onRequest.add(new RequestAction(p.trigger.id(), p.trigger.name(), a));
                        result.put("result", "applies to the request");
                    }
                    results.add(result);
                }
                firings.add(new TriggerFiring(p.trigger.id(), p.trigger.name(), p.count, p.time, o, results));
            }
        } finally {
            synchronized (lock) {
                for (Pending p : fired) {
                    p.trigger.running(false);
                }
                firing--;
                lock.notifyAll();
            }
        }
        for (TriggerFiring f : firings) {
            for (TriggerListener l : listeners) {
                l.fired(f);
            }
        }
    }

    private void notifyChanged(List<Long> added, List<Long> removed) {
        for (TriggerListener l : listeners) {
            l.changed(added, removed);
        }
    }

    private static List<Long> ids(List<Trigger> triggers) {
        List<Long> ids = new ArrayList<>();
        triggers.forEach(t -> ids.add(t.id()));
        return ids;
    }
}
