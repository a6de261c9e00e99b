package dev.faultdisk.cache;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An export's power switch. {@link #powerOff} cuts the power: the volatile state attached to it
 * (the {@link WriteCacheDevice}) decides with a {@link PowerFailMode} and a seed what unflushed
 * data survives, the listeners run (the server drops the export's connections), and until
 * {@link #powerOn} every request fails with ESHUTDOWN.
 *
 * <p>Every request is applied atomically with respect to a cut: the layer that does I/O under the
 * switch holds its shared lock while a request runs ({@link #enter}), a cut holds it exclusively.
 * A request either completed before the cut or fails with ESHUTDOWN and changes nothing. A request
 * that entered the export before the cut and reaches the switch after it (it was held or delayed
 * by a layer in between) also fails: {@link PowerGate} at the top of the stack stamps the epoch it
 * entered at on the request ({@link BlockRequest#epoch()}).
 */
public final class PowerSwitch {
    private static final System.Logger LOG = System.getLogger(PowerSwitch.class.getName());

    /** What a power cut takes away: the volatile state that decides which unflushed bytes survive. */
    @FunctionalInterface
    public interface Volatile {
        /** Applies a cut; called with every request out of the way (the switch held exclusively). */
        PowerFailReport cut(PowerFailMode mode, long seed);
    }

    /** Requests hold it shared for their whole run; power and mode changes hold it exclusively. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong powerFails = new AtomicLong();
    private final AtomicLong requestsCut = new AtomicLong();
    /**
     * Even while powered, odd while off; bumped at every switch, and by two when the medium is
     * swapped (a snapshot revert, a reset), under the exclusive lock.
     */
    private volatile long epoch;

    private Volatile state;

    /** Attaches the state a cut applies to; one per switch. */
    synchronized void attach(Volatile v) {
        if (state != null) {
            throw new IllegalStateException("a power switch drives one write cache");
        }
        state = Objects.requireNonNull(v, "state");
    }

    public boolean isOn() {
        return (epoch & 1) == 0;
    }

    /** The power epoch: a request stamped with it finds out whether the power failed since. */
    public long epoch() {
        return epoch;
    }

    /** Registers a listener run after every power cut (the server drops the export's connections). */
    public void onPowerFail(Runnable listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Power failures so far. */
    public long powerFails() {
        return powerFails.get();
    }

    /** Requests refused because the power was off or failed after they entered. */
    public long requestsCut() {
        return requestsCut.get();
    }

    /** A power failure and the power coming back: {@link #powerOff} then {@link #powerOn}. */
    public PowerFailReport powerFail(PowerFailMode mode, long seed) {
        PowerFailReport report = powerOff(mode, seed);
        powerOn();
        return report;
    }

    /**
     * Cuts the power: waits for requests running under the switch to finish, lets the attached
     * state decide with {@code seed} which unflushed bytes reached the medium, and runs the
     * power-fail listeners. Cutting a switch that is already off changes nothing and reports
     * nothing lost.
     */
    public PowerFailReport powerOff(PowerFailMode mode, long seed) {
        Objects.requireNonNull(mode, "mode");
        PowerFailReport report;
        boolean wasOn;
        Lock exclusive = exclusive();
        try {
            wasOn = isOn();
            if (wasOn) {
                advanceEpoch();
                powerFails.incrementAndGet();
            }
            Volatile v = state;
            report = v != null ? v.cut(mode, seed) : new PowerFailReport(mode, seed, 0, 0, 0, 0, 0, 0, 0, List.of());
        } finally {
            exclusive.unlock();
        }
        if (wasOn) {
            LOG.log(System.Logger.Level.DEBUG, "{0}", report.summary());
            for (Runnable listener : listeners) {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "power-fail listener failed: {0}", e.toString());
                }
            }
        }
        return report;
    }

    /** Restores the power; the device then holds exactly its durable data. */
    public void powerOn() {
        Lock exclusive = exclusive();
        try {
            if (!isOn()) {
                advanceEpoch();
            }
        } finally {
            exclusive.unlock();
        }
    }

    // ---- for the layer under the switch ----

    /** The epoch {@code r} entered at: its stamp, or now if no gate stamped it. Read before {@link #enter}. */
    long entryOf(BlockRequest r) {
        long stamped = r.epoch();
        return stamped == BlockRequest.NO_EPOCH ? epoch : stamped;
    }

    /** True if {@link #enter} would let {@code r} in now: the power is on and has not failed since it entered. */
    boolean admits(BlockRequest r) {
        long now = epoch;
        return (now & 1) == 0 && entryOf(r) == now;
    }

    /**
     * Takes the shared lock for a request that entered at {@code entry} and checks that the power
     * is on and did not fail since. Returns the lock to release; on failure it is released already.
     */
    Lock enter(long entry) throws DeviceException {
        Lock shared = lock.readLock();
        shared.lock();
        try {
            check(entry);
        } catch (DeviceException e) {
            shared.unlock();
            throw e;
        }
        return shared;
    }

    /** Flips between on and off; the caller holds the exclusive lock. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // the exclusive lock makes this the only writer; readers need volatile
    private void advanceEpoch() {
        epoch++;
    }

    /**
     * The medium changes under the powered disk (caller holds the lock exclusively): requests that
     * entered before are refused below, as after a power cut, so none lands on the new medium.
     */
    @SuppressWarnings("NonAtomicVolatileUpdate") // the exclusive lock makes this the only writer; readers need volatile
    void swapped() {
        epoch += 2;
    }

    /** Takes the lock exclusively (no request runs under the switch until it is released). */
    Lock exclusive() {
        Lock exclusive = lock.writeLock();
        exclusive.lock();
        return exclusive;
    }

    /** True while a power or mode change waits for running requests (tests use it to order events). */
    boolean queued() {
        return lock.hasQueuedThreads();
    }

    private void check(long entry) throws DeviceException {
        long now = epoch;
        if ((now & 1) != 0) {
            requestsCut.incrementAndGet();
            throw new DeviceException(Errno.ESHUTDOWN, "device is powered off");
        }
        if (entry != now) {
            requestsCut.incrementAndGet();
            throw new DeviceException(
                    Errno.ESHUTDOWN,
                    "power failed (or the medium was reverted or reset) while the request was in flight");
        }
    }
}
