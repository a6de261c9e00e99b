package dev.faultdisk.fault.blkdebug;

import dev.faultdisk.device.LayerEngine;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * QEMU's blkdebug rule engine for one export, with blkdebug's semantics:
 * <ul>
 *   <li>The state starts at {@value #INITIAL_STATE}. When an event fires, every rule on it whose
 *       state is 0 or the current state acts, all against the state from before the event:
 *       set-state rules pick the new state (the first one defined wins; it applies after all
 *       rules ran), inject-error rules become the active set. If at least one inject-error rule
 *       acted, the active set is replaced by exactly those rules; otherwise it stays as it was,
 *       so an armed rule keeps failing requests across later events.</li>
 *   <li>{@link #check} (QEMU's {@code rule_check}) fails a request with the errno of the first
 *       defined active rule that matches its type and range; a matching rule with errno 0 lets it
 *       pass. A {@code once} rule is deleted after it failed a request.</li>
 *   <li>Breakpoints suspend the request that reaches their event (after the event's rules ran),
 *       until it is resumed; each fires once.</li>
 * </ul>
 * The active set is shared by all requests of the export (QEMU keeps it per node, not per request).
 *
 * <p>Thread-safe. Changes happen under a lock and are published as immutable snapshots, so the
 * data path reads volatile fields only: with no rules and no breakpoints {@link #isEngaged()} is
 * false and callers skip the engine altogether; an event without rules, or a check with nothing
 * armed, costs one array read.
 */
public final class BlkdebugEngine implements LayerEngine {
    /** The state of a new engine, and what adding rules at run time resets it to. */
    public static final int INITIAL_STATE = 1;

    private static final BreakpointEntry[] NO_BREAKPOINTS = {};
    private static final int EVENTS = BlkdebugEvent.values().length;
    /** The connection of a request that came on none (a test's, or the server's own). */
    public static final long NO_CONNECTION = dev.faultdisk.device.BlockRequest.NO_CONNECTION;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever a request is suspended or released. */
    private final Condition suspensionsChanged = lock.newCondition();

    private final List<BlkdebugListener> listeners = new CopyOnWriteArrayList<>();
    /** Hears every event a request fires, rules or not (the triggers' blkdebug-event condition). */
    private volatile Consumer<BlkdebugEvent> eventObserver;
    /** While true, requests take the engaged path so that their events reach the observer. */
    private volatile BooleanSupplier eventsWanted;

    // Guarded by lock.
    private final List<RuleEntry> rules = new ArrayList<>();
    private final List<BreakpointEntry> breakpoints = new ArrayList<>();
    /** Head first, as QEMU's list: the newest suspension is resumed first. */
    private final ArrayDeque<Suspension> suspended = new ArrayDeque<>();
    /** Written under the lock; read without it to skip events that have nothing to do. */
    private volatile int state = INITIAL_STATE;

    /** The most rules, and apart the most unfired breakpoints, the engine takes (the export's max-rules budget). */
    private int maxRules = Integer.MAX_VALUE;

    private long lastSuspensionId;
    private long lastRuleSeq;
    private boolean shutDown;

    // Snapshots for lock-free readers.
    private volatile PerEvent[] byEvent = new PerEvent[EVENTS];
    private volatile ArmedRules active = ArmedRules.NONE;
    private volatile boolean engaged;
    private volatile boolean blocking;

    /** An engine with no rules. */
    public BlkdebugEngine() {
        this(List.of());
    }

    /**
     * An engine with the rules of a configuration, as blkdebug opens: the rules are added in
     * order and then the {@code none} event fires once.
     */
    public BlkdebugEngine(List<? extends Rule> initialRules) {
        lock.lock();
        try {
            for (Rule r : initialRules) {
                rules.add(RuleEntry.of(r, ++lastRuleSeq));
            }
            publish();
            PerEvent none = byEvent[BlkdebugEvent.NONE.ordinal()];
            if (none != null) {
                applyRules(none);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The step sequence (events, checks, I/O) QEMU goes through for an operation; see {@link EventTable}. */
    public static List<Step> eventsFor(Operation op) {
        return EventTable.steps(op);
    }

    // ---- the data path ----

    /** False while there are no rules, breakpoints or suspended requests: the engine would do nothing. */
    public boolean isEngaged() {
        if (engaged) {
            return true;
        }
        BooleanSupplier wanted = eventsWanted;
        return wanted != null && wanted.getAsBoolean();
    }

    /** True while breakpoints are set or requests suspended: a request may block in {@link #fire}. */
    @Override
    public boolean mayBlock() {
        return blocking;
    }

    /**
     * Fires {@code event} for a request: runs the event's rules and, if a breakpoint is set on it,
     * suspends the calling thread until the request is resumed.
     *
     * @throws InterruptedException if the thread was interrupted while suspended; the request is
     *                              then no longer listed as suspended
     */
    public void fire(BlkdebugEvent event, Operation operation, long offset, long length) throws InterruptedException {
        fire(event, operation, offset, length, NO_CONNECTION);
    }

    /**
     * {@link #fire(BlkdebugEvent, Operation, long, long)} for a request of client connection
     * {@code connection}. Returns false if the request was dropped while suspended because its
     * connection closed ({@link #dropConnection}): it must then not go on to the disk.
     */
    public boolean fire(BlkdebugEvent event, Operation operation, long offset, long length, long connection)
            throws InterruptedException {
        Consumer<BlkdebugEvent> observer = eventObserver;
        if (observer != null) {
            observer.accept(event);
        }
        PerEvent quick = byEvent[event.ordinal()];
        if (quick == null
                || (quick.breakpoints.length == 0 && quick.any.length == 0 && quick.forState(state).length == 0)) {
            return true; // no rule can act in this state: no lock (a concurrent state change may order either way)
        }
        List<Suspension> mine = null;
        lock.lock();
        try {
            PerEvent pe = byEvent[event.ordinal()];
            if (pe == null) {
                return true;
            }
            applyRules(pe);
            if (pe.breakpoints.length > 0) {
                mine = new ArrayList<>(pe.breakpoints.length);
                for (BreakpointEntry b : pe.breakpoints) {
                    breakpoints.remove(b);
                    Suspension s = new Suspension(
                            new SuspendedRequest(
                                    ++lastSuspensionId, b.breakpoint.tag(), event, operation, offset, length),
                            connection);
                    suspended.addFirst(s);
                    mine.add(s);
                }
                publish();
                suspensionsChanged.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (mine != null) {
            for (Suspension s : mine) {
                for (BlkdebugListener l : listeners) {
                    l.suspended(s.request);
                }
            }
            return awaitRelease(mine);
        }
        return true;
    }

    /**
     * Runs an event's inject-error and set-state rules (lock held): all see the state from before
     * the event; the first matching set-state rule picks the next state; matching inject-error
     * rules replace the armed set, if there is at least one.
     */
    private void applyRules(PerEvent pe) {
        Outcome outcome = pe.outcome(state);
        if (outcome.moves) {
            state = outcome.newState;
        }
        if (outcome.armed != null) {
            active = outcome.armed;
        }
    }

    /**
     * What an event does in one state: whether it moves to another state and which, and the
     * inject-error rules it arms (null: the armed set stays). The same for every request,
     * so each {@link PerEvent} computes it once per state and requests reuse it.
     */
    private record Outcome(boolean moves, int newState, ArmedRules armed) {
        static Outcome of(RuleEntry[] any, RuleEntry[] here) {
            boolean moves = false;
            int next = 0;
            List<RuleEntry> armed = null;
            // The rules for any state and those for this state, merged back into definition order.
            int i = 0;
            int j = 0;
            while (i < any.length || j < here.length) {
                RuleEntry e =
                        j >= here.length || (i < any.length && any[i].seq() < here[j].seq()) ? any[i++] : here[j++];
                if (e.inject() != null) {
                    if (armed == null) {
                        armed = new ArrayList<>();
                    }
                    armed.add(e);
                } else if (!moves) {
                    next = ((SetStateRule) e.rule()).newState();
                    moves = true;
                }
            }
            return new Outcome(moves, next, armed == null ? null : ArmedRules.of(armed));
        }
    }

    /** Waits until every suspension of the request is released; false if one was dropped. */
    private boolean awaitRelease(List<Suspension> mine) throws InterruptedException {
        lock.lock();
        try {
            while (!allReleased(mine)) {
                try {
                    suspensionsChanged.await();
                } catch (InterruptedException e) {
                    for (Suspension s : mine) {
                        if (!s.released) {
                            s.released = true;
                            suspended.remove(s);
                        }
                    }
                    publish();
                    suspensionsChanged.signalAll();
                    throw e;
                }
            }
            for (Suspension s : mine) {
                if (s.dropped) {
                    return false;
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private static boolean allReleased(List<Suspension> mine) {
        for (Suspension s : mine) {
            if (!s.released) {
                return false;
            }
        }
        return true;
    }

    /**
     * The rule check for a request of {@code type} over {@code [offset, offset+bytes)} (flush:
     * 0, 0). Returns the errno to fail it with, or 0 to let it pass.
     */
    public int check(IoType type, Operation operation, long offset, long bytes) {
        ArmedRules armed = active;
        if (armed.entries.length == 0) {
            return 0;
        }
        RuleEntry hit = armed.firstMatch(type, offset, bytes);
        if (hit == null || hit.inject().errno() == 0) {
            return 0;
        }
        if (hit.inject().once()) {
            lock.lock();
            try {
                // Another request may have used it up meanwhile: decide again on the current set.
                hit = active.firstMatch(type, offset, bytes);
                if (hit == null || hit.inject().errno() == 0) {
                    return 0;
                }
                if (hit.inject().once()) {
                    delete(hit);
                }
            } finally {
                lock.unlock();
            }
        }
        if (!listeners.isEmpty()) {
            InjectedError error = new InjectedError(
                    operation, type, offset, bytes, hit.inject().errno(), hit.inject());
            for (BlkdebugListener l : listeners) {
                l.errorInjected(error);
            }
        }
        return hit.inject().errno();
    }

    /** Removes a rule for good (lock held). */
    private void delete(RuleEntry e) {
        rules.remove(e);
        List<RuleEntry> kept = new ArrayList<>(active.entries.length);
        for (RuleEntry a : active.entries) {
            if (a.seq() != e.seq()) { // its place in definition order tells an entry apart
                kept.add(a);
            }
        }
        active = ArmedRules.of(kept);
        publish();
    }

    // ---- rules ----

    /**
     * Appends rules and resets the state to {@value #INITIAL_STATE}, as the QMP command of the
     * blkdebug QMP patch of 2014 does. Rules already armed stay armed. All or nothing: the list is checked first.
     *
     * @throws IllegalArgumentException if the rules would pass {@link #maxRules(int)}; nothing changes then
     */
    public void addRules(Collection<? extends Rule> newRules) {
        for (Rule r : newRules) {
            Objects.requireNonNull(r, "rule");
        }
        lock.lock();
        try {
            requireOpen();
            if ((long) rules.size() + newRules.size() > maxRules) {
                throw new IllegalArgumentException(rules.size() + " blkdebug rules and " + newRules.size()
                        + " more would pass the limit of " + maxRules + " (max-rules)");
            }
            for (Rule r : newRules) {
                rules.add(RuleEntry.of(r, ++lastRuleSeq));
            }
            state = INITIAL_STATE;
            publish();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sets the most rules {@link #addRules} may leave the engine with, and apart the most breakpoints
     * not yet fired; rules already there stay (a configuration's, say), and adding is refused until
     * they are fewer.
     */
    public void maxRules(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max-rules must be positive");
        }
        lock.lock();
        try {
            maxRules = max;
        } finally {
            lock.unlock();
        }
    }

    /** Removes every rule (not the breakpoints), disarms them and resets the state to {@value #INITIAL_STATE}. */
    public void clearRules() {
        lock.lock();
        try {
            rules.clear();
            active = ArmedRules.NONE;
            state = INITIAL_STATE;
            publish();
        } finally {
            lock.unlock();
        }
    }

    /** The rules in definition order (deleted {@code once} rules are gone). */
    public List<Rule> rules() {
        lock.lock();
        try {
            List<Rule> list = new ArrayList<>(rules.size());
            for (RuleEntry e : rules) {
                list.add(e.rule());
            }
            return List.copyOf(list);
        } finally {
            lock.unlock();
        }
    }

    /** The armed inject-error rules, the one that wins first. */
    public List<InjectErrorRule> activeRules() {
        RuleEntry[] armed = active.entries;
        List<InjectErrorRule> list = new ArrayList<>(armed.length);
        for (RuleEntry e : armed) {
            list.add(e.inject());
        }
        return List.copyOf(list);
    }

    /** The current state (QEMU cannot show it; here it helps tests and diagnostics). */
    public int state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    // ---- breakpoints (qemu-io break / resume / remove_break / wait_break) ----

    /**
     * Sets a breakpoint: the next request reaching {@code event}, in any state, is suspended under {@code tag}.
     *
     * @throws IllegalArgumentException if as many breakpoints as {@link #maxRules(int)} allows are set
     */
    public void setBreakpoint(BlkdebugEvent event, String tag) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(tag, "tag");
        lock.lock();
        try {
            requireOpen();
            if (breakpoints.size() >= maxRules) {
                throw new IllegalArgumentException(breakpoints.size()
                        + " blkdebug breakpoints not yet fired and one more would pass the limit of " + maxRules
                        + " (max-rules)");
            }
            breakpoints.add(new BreakpointEntry(new Breakpoint(event, tag)));
            publish();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Resumes one request suspended under {@code tag}: the most recently suspended one, as QEMU
     * does. Returns false if none is (qemu-io reports ENOENT).
     */
    public boolean resume(String tag) {
        Objects.requireNonNull(tag, "tag");
        List<Suspension> released;
        lock.lock();
        try {
            released = releaseLocked(tag, false);
        } finally {
            lock.unlock();
        }
        notifyResumed(released);
        return !released.isEmpty();
    }

    /**
     * Removes the breakpoints tagged {@code tag} that have not fired and resumes every request
     * suspended under it. Returns false if there was neither (qemu-io reports ENOENT).
     */
    public boolean removeBreakpoint(String tag) {
        Objects.requireNonNull(tag, "tag");
        boolean removed;
        List<Suspension> released;
        lock.lock();
        try {
            removed = breakpoints.removeIf(b -> b.breakpoint.tag().equals(tag));
            released = releaseLocked(tag, true);
        } finally {
            lock.unlock();
        }
        notifyResumed(released);
        return removed || !released.isEmpty();
    }

    /** Releases the newest (or every) suspension under {@code tag} and republishes (lock held). */
    private List<Suspension> releaseLocked(String tag, boolean all) {
        List<Suspension> released = new ArrayList<>();
        for (Iterator<Suspension> it = suspended.iterator(); it.hasNext(); ) {
            Suspension s = it.next();
            if (s.request.tag().equals(tag)) {
                it.remove();
                s.released = true;
                released.add(s);
                if (!all) {
                    break;
                }
            }
        }
        publish();
        suspensionsChanged.signalAll();
        return released;
    }

    /**
     * Client connection {@code connection} closed: the requests of it suspended at breakpoints are
     * dropped, as the fault engine drops what it holds. They leave the suspended list (a resume
     * no longer finds them), their threads return without going on to the disk, and listeners
     * hear {@link BlkdebugListener#dropped}. Returns how many.
     */
    public int dropConnection(long connection) {
        List<Suspension> dropped = new ArrayList<>();
        lock.lock();
        try {
            for (Iterator<Suspension> it = suspended.iterator(); it.hasNext(); ) {
                Suspension s = it.next();
                if (s.connection == connection && connection != NO_CONNECTION) {
                    it.remove();
                    s.released = true;
                    s.dropped = true;
                    dropped.add(s);
                }
            }
            if (!dropped.isEmpty()) {
                publish();
                suspensionsChanged.signalAll();
            }
        } finally {
            lock.unlock();
        }
        for (Suspension s : dropped) {
            for (BlkdebugListener l : listeners) {
                l.dropped(s.request);
            }
        }
        return dropped.size();
    }

    private void notifyResumed(List<Suspension> released) {
        for (Suspension s : released) {
            for (BlkdebugListener l : listeners) {
                l.resumed(s.request);
            }
        }
    }

    /** True if a request is suspended under {@code tag}. */
    public boolean isSuspended(String tag) {
        lock.lock();
        try {
            return isSuspendedLocked(tag);
        } finally {
            lock.unlock();
        }
    }

    private boolean isSuspendedLocked(String tag) {
        for (Suspension s : suspended) {
            if (s.request.tag().equals(tag)) {
                return true;
            }
        }
        return false;
    }

    /** Blocks until a request is suspended under {@code tag} (qemu-io {@code wait_break}); no timeout. */
    public void awaitSuspended(String tag) throws InterruptedException {
        lock.lock();
        try {
            while (!isSuspendedLocked(tag)) {
                suspensionsChanged.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Like {@link #awaitSuspended(String)}, giving up after {@code timeout}; returns whether one is suspended. */
    public boolean awaitSuspended(String tag, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (!isSuspendedLocked(tag)) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = suspensionsChanged.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Breakpoints not yet fired, in the order they were set. */
    public List<Breakpoint> breakpoints() {
        lock.lock();
        try {
            List<Breakpoint> list = new ArrayList<>(breakpoints.size());
            for (BreakpointEntry b : breakpoints) {
                list.add(b.breakpoint);
            }
            return List.copyOf(list);
        } finally {
            lock.unlock();
        }
    }

    /** Suspended requests, oldest first. */
    public List<SuspendedRequest> suspended() {
        lock.lock();
        try {
            List<SuspendedRequest> list = new ArrayList<>(suspended.size());
            for (Iterator<Suspension> it = suspended.descendingIterator(); it.hasNext(); ) {
                list.add(it.next().request);
            }
            return List.copyOf(list);
        } finally {
            lock.unlock();
        }
    }

    // ---- listeners and lifecycle ----

    /**
     * Calls {@code observer} with every event fired, on the request's thread (it must be quick),
     * while {@code wanted} says so; otherwise requests with no rules skip the events altogether.
     */
    public void observeEvents(BooleanSupplier wanted, Consumer<BlkdebugEvent> observer) {
        this.eventObserver = observer;
        this.eventsWanted = wanted;
    }

    public void addListener(BlkdebugListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(BlkdebugListener listener) {
        listeners.remove(listener);
    }

    /**
     * Stops the engine for good: removes breakpoints, resumes every suspended request and makes the
     * engine inert (no more events, checks or rules), so that closing an export can flush it
     * without faults and without hanging.
     */
    @Override
    public void shutdown() {
        List<Suspension> released;
        lock.lock();
        try {
            shutDown = true;
            breakpoints.clear();
            rules.clear();
            active = ArmedRules.NONE;
            released = new ArrayList<>(suspended);
            for (Suspension s : released) {
                s.released = true;
            }
            suspended.clear();
            publish();
            suspensionsChanged.signalAll();
        } finally {
            lock.unlock();
        }
        notifyResumed(released);
    }

    private void requireOpen() {
        if (shutDown) {
            throw new IllegalStateException("the blkdebug engine was shut down (its export is closing)");
        }
    }

    /** Rebuilds the per-event snapshot and the flags (lock held). */
    private void publish() {
        List<List<RuleEntry>> ruleLists = new ArrayList<>(EVENTS);
        List<List<BreakpointEntry>> breakLists = new ArrayList<>(EVENTS);
        for (int i = 0; i < EVENTS; i++) {
            ruleLists.add(new ArrayList<>());
            breakLists.add(new ArrayList<>());
        }
        for (RuleEntry e : rules) {
            ruleLists.get(e.rule().event().ordinal()).add(e);
        }
        for (int k = breakpoints.size() - 1; k >= 0; k--) { // newest first, as QEMU processes them
            BreakpointEntry b = breakpoints.get(k);
            breakLists.get(b.breakpoint.event().ordinal()).add(b);
        }
        PerEvent[] table = new PerEvent[EVENTS];
        for (int i = 0; i < EVENTS; i++) {
            if (!ruleLists.get(i).isEmpty() || !breakLists.get(i).isEmpty()) {
                table[i] = PerEvent.of(ruleLists.get(i), breakLists.get(i).toArray(NO_BREAKPOINTS));
            }
        }
        byEvent = table;
        engaged = !shutDown && (!rules.isEmpty() || !breakpoints.isEmpty() || !suspended.isEmpty());
        blocking = !breakpoints.isEmpty() || !suspended.isEmpty();
    }

    private static final class BreakpointEntry {
        final Breakpoint breakpoint;

        BreakpointEntry(Breakpoint breakpoint) {
            this.breakpoint = breakpoint;
        }
    }

    /**
     * One event's rules, split into those for any state and those for each state (sorted states,
     * binary-searched), each in definition order, so that an event whose rules are all for other
     * states costs no lock and a state with few rules never scans the others.
     */
    private record PerEvent(
            RuleEntry[] any, int[] states, RuleEntry[][] byState, BreakpointEntry[] breakpoints, Outcome[] outcomes) {

        static PerEvent of(List<RuleEntry> rules, BreakpointEntry[] breakpoints) {
            List<RuleEntry> any = new ArrayList<>();
            java.util.TreeMap<Integer, List<RuleEntry>> byState = new java.util.TreeMap<>();
            for (RuleEntry e : rules) {
                if (e.rule().state() == Rule.ANY_STATE) {
                    any.add(e);
                } else {
                    byState.computeIfAbsent(e.rule().state(), k -> new ArrayList<>())
                            .add(e);
                }
            }
            int[] states = new int[byState.size()];
            RuleEntry[][] lists = new RuleEntry[byState.size()][];
            int k = 0;
            for (java.util.Map.Entry<Integer, List<RuleEntry>> e : byState.entrySet()) {
                states[k] = e.getKey();
                lists[k++] = e.getValue().toArray(RuleEntry.NONE);
            }
            // One outcome per listed state, and the last slot for the states with no rules of their own.
            return new PerEvent(
                    any.toArray(RuleEntry.NONE), states, lists, breakpoints, new Outcome[states.length + 1]);
        }

        /** The event's outcome in {@code state}, computed on first use (callers hold the engine's lock). */
        Outcome outcome(int state) {
            int k = java.util.Arrays.binarySearch(states, state);
            int slot = k < 0 ? states.length : k;
            Outcome o = outcomes[slot];
            if (o == null) {
                o = Outcome.of(any, k < 0 ? RuleEntry.NONE : byState[k]);
                outcomes[slot] = o;
            }
            return o;
        }

        RuleEntry[] forState(int state) {
            int k = java.util.Arrays.binarySearch(states, state);
            return k < 0 ? RuleEntry.NONE : byState[k];
        }
    }

    private static final class Suspension {
        final SuspendedRequest request;
        /** The client connection the request came on, or {@link #NO_CONNECTION}. */
        final long connection;

        boolean released; // guarded by lock
        boolean dropped; // guarded by lock

        Suspension(SuspendedRequest request, long connection) {
            this.request = request;
            this.connection = connection;
        }
    }
}
