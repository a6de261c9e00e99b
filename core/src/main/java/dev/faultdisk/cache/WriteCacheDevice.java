package dev.faultdisk.cache;

import dev.faultdisk.cache.DirtyMap.Extent;
import dev.faultdisk.cache.DirtyMap.Kind;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A disk's volatile write cache with a power switch, over a device that stands for the durable
 * medium. One per export, shared by all its connections.
 *
 * <p>In {@link CacheMode#WRITEBACK} a write, trim or write-zeroes acknowledged without FUA lives in
 * the cache (reads see it) until a flush persists it. The durability rule is NBD's: a flush makes
 * durable every request that completed before the flush started. It does so by persisting every
 * byte that was dirty when it started, with whatever content that byte holds when its turn comes
 * (a newer write may have replaced it: persisting more than asked is allowed). FUA makes its own
 * request durable before returning. Dirty data lives in an {@link Overlay} file, not on the heap.
 *
 * <p>Power: {@link #powerOff} cuts the power. Unflushed data is lost or partly kept according to a
 * {@link PowerFailMode} and a seed, the listeners run (the frontend drops its connections), and
 * until {@link #powerOn} every request fails with ESHUTDOWN. Every request is applied atomically
 * with respect to the cut: it either completed before it (then it is subject to the power-fail
 * mode like any other acknowledged request) or it fails with ESHUTDOWN and changes nothing. A
 * request that entered the export before the cut and reaches this layer after it (it was held or
 * delayed by a layer above) also fails: {@link PowerGate} at the top of the stack records when
 * each request entered.
 */
public final class WriteCacheDevice extends ForwardingBlockDevice {
    /** The power epoch at which the current request entered the export (bound by {@link PowerGate}). */
    static final ScopedValue<Long> ENTRY_EPOCH = ScopedValue.newInstance();

    private static final System.Logger LOG = System.getLogger(WriteCacheDevice.class.getName());
    /** A flush persists at most this much per lock hold, so a power cut can land mid-flush. */
    private static final long FLUSH_STEP = 8L << 20;
    private static final int COPY_BUFFER = 1 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

    private final InstantSource clock;
    private final Path overlayDir;
    /** Requests hold it shared for their whole run; power and mode changes hold it exclusively. */
    private final ReentrantReadWriteLock power = new ReentrantReadWriteLock();
    /** Guards the dirty map, the overlay and the sequence counter. */
    private final ReentrantLock cacheLock = new ReentrantLock();
    private final DirtyMap dirty = new DirtyMap();
    private final List<Runnable> powerFailListeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean deferredErrorArmed = new AtomicBoolean();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong lyingFlushes = new AtomicLong();
    private final AtomicLong deferredErrors = new AtomicLong();
    private final AtomicLong bytesDroppedByDeferredErrors = new AtomicLong();
    private final AtomicLong powerFails = new AtomicLong();
    private final AtomicLong requestsCut = new AtomicLong();
    /** Even while powered, odd while off; bumped at every switch, under the exclusive power lock. */
    private volatile long epoch;
    /** Changed only under the exclusive power lock, so a request sees one mode throughout. */
    private volatile CacheMode mode;
    /** Mirrors {@code !dirty.isEmpty()} for a lock-free fast path. */
    private volatile boolean hasDirty;
    private long nextSeq = 1;
    private Overlay overlay;
    private ByteBuffer copyBuffer;

    /** A cache in the given mode, with the system clock and its overlay in {@code java.io.tmpdir}. */
    public WriteCacheDevice(BlockDevice next, CacheMode mode) {
        this(next, mode, InstantSource.system(), Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** A cache whose dirty-age clock is {@code clock} and whose overlay file is created in {@code overlayDir}. */
    public WriteCacheDevice(BlockDevice next, CacheMode mode, InstantSource clock, Path overlayDir) {
        super(next);
        this.mode = Objects.requireNonNull(mode, "mode");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.overlayDir = Objects.requireNonNull(overlayDir, "overlayDir");
    }

    // ---- control ----

    public CacheMode mode() {
        return mode;
    }

    /**
     * Switches the mode. Switching to writethrough first persists the cache, as a disk does when
     * its write cache is turned off; other switches keep dirty data where it is.
     */
    public void setMode(CacheMode newMode) throws IOException {
        Objects.requireNonNull(newMode, "mode");
        Lock lock = power.writeLock();
        lock.lock();
        try {
            if (newMode == CacheMode.WRITETHROUGH && hasDirty) {
                cacheLock.lock();
                try {
                    persist(0, size());
                } finally {
                    cacheLock.unlock();
                }
                next.flush();
            }
            mode = newMode;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Arms a deferred write error, as when a disk failed to write back its cache and says so only
     * at the next flush (the 2018 fsync problem): the next flush fails once with EIO and drops,
     * unwritten, every dirty byte it should have persisted; later flushes succeed.
     */
    public void armDeferredFlushError() {
        deferredErrorArmed.set(true);
    }

    /** Registers a listener run after every power cut (a frontend drops its connections). */
    public void onPowerFail(Runnable listener) {
        powerFailListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public boolean isPoweredOn() {
        return (epoch & 1) == 0;
    }

    /** The power epoch: requests check it to find out whether the power failed since they entered. */
    long epoch() {
        return epoch;
    }

    /** True while a power or mode change waits for running requests (tests use it to order events). */
    boolean powerLockQueued() {
        return power.hasQueuedThreads();
    }

    /** A power failure and the power coming back: {@link #powerOff} then {@link #powerOn}. */
    public PowerFailReport powerFail(PowerFailMode failMode, long seed) {
        PowerFailReport report = powerOff(failMode, seed);
        powerOn();
        return report;
    }

    /**
     * Cuts the power: waits for requests running in this layer to finish, decides with
     * {@code seed} which unflushed bytes reached the medium, drops the rest, and runs the
     * power-fail listeners. Until {@link #powerOn}, every request fails with ESHUTDOWN. Cutting
     * a device that is already off changes nothing and reports nothing lost.
     */
    public PowerFailReport powerOff(PowerFailMode failMode, long seed) {
        Objects.requireNonNull(failMode, "mode");
        PowerFailReport report;
        boolean wasOn;
        Lock lock = power.writeLock();
        lock.lock();
        try {
            wasOn = isPoweredOn();
            if (wasOn) {
                epoch++;
                powerFails.incrementAndGet();
            }
            cacheLock.lock();
            try {
                report = cut(failMode, seed);
            } finally {
                cacheLock.unlock();
            }
        } finally {
            lock.unlock();
        }
        if (wasOn) {
            LOG.log(System.Logger.Level.DEBUG, "{0}", report.summary());
            for (Runnable listener : powerFailListeners) {
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
        Lock lock = power.writeLock();
        lock.lock();
        try {
            if (!isPoweredOn()) {
                epoch++;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Dirty data, counters and power state. */
    public CacheStatus status() {
        cacheLock.lock();
        try {
            Instant oldest = dirty.oldestCachedAt();
            Duration age = oldest == null ? Duration.ZERO : Duration.between(oldest, clock.instant());
            return new CacheStatus(mode, isPoweredOn(), dirty.dirtyBytes(), dirty.mergedRangeCount(),
                    dirty.writeCount(), age.isNegative() ? Duration.ZERO : age, deferredErrorArmed.get(),
                    flushes.get(), lyingFlushes.get(), deferredErrors.get(), bytesDroppedByDeferredErrors.get(),
                    powerFails.get(), requestsCut.get());
        } finally {
            cacheLock.unlock();
        }
    }

    /** The dirty bytes as maximal contiguous ranges, in offset order. */
    public List<ByteRange> dirtyRanges() {
        cacheLock.lock();
        try {
            return dirty.mergedRanges().stream().map(r -> new ByteRange(r[0], r[1] - r[0])).toList();
        } finally {
            cacheLock.unlock();
        }
    }

    // ---- data path ----

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long entry = entryEpoch();
        Lock lock = power.readLock();
        lock.lock();
        try {
            check(entry);
            if (!hasDirty) {
                next.read(offset, dst);
                return;
            }
            long end = offset + dst.remaining();
            cacheLock.lock();
            try {
                List<Extent> hits = dirty.overlapping(offset, end);
                if (!hits.isEmpty()) {
                    readMerged(offset, end, hits, dst);
                    return;
                }
            } finally {
                cacheLock.unlock();
            }
            // Nothing cached here: the medium has the newest data, and no flush writes this range.
            next.read(offset, dst);
        } finally {
            lock.unlock();
        }
    }

    private void readMerged(long offset, long end, List<Extent> hits, ByteBuffer dst) throws IOException {
        long pos = offset;
        for (Extent e : hits) {
            if (e.start() > pos) {
                readPart(pos, e.start(), dst, null);
            }
            readPart(e.start(), e.end(), dst, e.kind());
            pos = e.end();
        }
        if (pos < end) {
            readPart(pos, end, dst, null);
        }
    }

    /** Reads {@code [from, to)} into the next bytes of {@code dst}: from the medium, the overlay or zeroes. */
    private void readPart(long from, long to, ByteBuffer dst, Kind kind) throws IOException {
        int limit = dst.limit();
        dst.limit(dst.position() + (int) (to - from));
        try {
            if (kind == null) {
                next.read(from, dst);
            } else if (kind == Kind.DATA) {
                overlay.read(from, dst);
            } else {
                while (dst.hasRemaining()) {
                    ByteBuffer z = ZEROES.duplicate();
                    z.limit(Math.min(z.capacity(), dst.remaining()));
                    dst.put(z);
                }
            }
        } finally {
            dst.limit(limit);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        long entry = entryEpoch();
        Lock lock = power.readLock();
        lock.lock();
        try {
            check(entry);
            CacheMode m = mode;
            if (m == CacheMode.WRITETHROUGH) {
                next.write(offset, src, fua);
                return;
            }
            if (!src.hasRemaining()) {
                return;
            }
            long end = offset + src.remaining();
            cacheLock.lock();
            try {
                if (fua && m == CacheMode.WRITEBACK) {
                    next.write(offset, src, true);
                    release(dirty.remove(offset, end));
                } else {
                    overlay().write(offset, src);
                    dirty.put(offset, end, nextSeq++, Kind.DATA, clock.instant());
                    hasDirty = true;
                }
            } finally {
                cacheLock.unlock();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        long entry = entryEpoch();
        Lock lock = power.readLock();
        lock.lock();
        try {
            check(entry);
            CacheMode m = mode;
            if (m == CacheMode.WRITETHROUGH) {
                next.trim(offset, length, fua);
                return;
            }
            cacheLock.lock();
            try {
                if (fua && m == CacheMode.WRITEBACK) {
                    next.trim(offset, length, true);
                    release(dirty.remove(offset, offset + length));
                } else {
                    cacheZeroes(offset, length, Kind.TRIM);
                }
            } finally {
                cacheLock.unlock();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastOnly, boolean fua)
            throws IOException {
        long entry = entryEpoch();
        Lock lock = power.readLock();
        lock.lock();
        try {
            check(entry);
            CacheMode m = mode;
            if (m == CacheMode.WRITETHROUGH) {
                next.writeZeroes(offset, length, noHole, fastOnly, fua);
                return;
            }
            cacheLock.lock();
            try {
                if (fua && m == CacheMode.WRITEBACK) {
                    next.writeZeroes(offset, length, noHole, fastOnly, true);
                    release(dirty.remove(offset, offset + length));
                } else {
                    // Caching zeroes is always fast, so fastOnly never refuses here.
                    cacheZeroes(offset, length, noHole ? Kind.ZERO_NO_HOLE : Kind.ZERO);
                }
            } finally {
                cacheLock.unlock();
            }
        } finally {
            lock.unlock();
        }
    }

    private void cacheZeroes(long offset, long length, Kind kind) throws IOException {
        if (length <= 0) {
            return;
        }
        release(dirty.put(offset, offset + length, nextSeq++, kind, clock.instant()));
        hasDirty = true;
    }

    @Override
    public void flush() throws IOException {
        long entry = entryEpoch();
        List<long[]> ranges;
        Lock lock = power.readLock();
        lock.lock();
        try {
            check(entry);
            if (deferredErrorArmed.getAndSet(false)) {
                throw deferredError();
            }
            CacheMode m = mode;
            if (m == CacheMode.LYING_FLUSH) {
                lyingFlushes.incrementAndGet();
                return;
            }
            cacheLock.lock();
            try {
                ranges = dirty.mergedRanges();
            } finally {
                cacheLock.unlock();
            }
        } finally {
            lock.unlock();
        }
        // Persist what was dirty when the flush started, a step at a time, so that writes go on
        // meanwhile and a power cut can land between steps (the flush then fails).
        for (long[] range : ranges) {
            for (long from = range[0]; from < range[1]; from += FLUSH_STEP) {
                lock.lock();
                try {
                    check(entry);
                    cacheLock.lock();
                    try {
                        persist(from, Math.min(range[1], from + FLUSH_STEP));
                    } finally {
                        cacheLock.unlock();
                    }
                } finally {
                    lock.unlock();
                }
            }
        }
        lock.lock();
        try {
            check(entry);
            next.flush();
        } finally {
            lock.unlock();
        }
        flushes.incrementAndGet();
    }

    /** Drops what the flush should have persisted and reports EIO; caller holds the power lock shared. */
    private DeviceException deferredError() throws IOException {
        long bytes;
        int ranges;
        cacheLock.lock();
        try {
            bytes = dirty.dirtyBytes();
            ranges = dirty.mergedRangeCount();
            release(dirty.all());
            dirty.clear();
            hasDirty = false;
        } finally {
            cacheLock.unlock();
        }
        deferredErrors.incrementAndGet();
        bytesDroppedByDeferredErrors.addAndGet(bytes);
        return new DeviceException(Errno.EIO, "deferred write error: " + bytes + " cached bytes in " + ranges
                + " ranges were never written");
    }

    @Override
    public void extents(long offset, long length, ExtentSink sink) throws IOException {
        long entry = entryEpoch();
        Lock lock = power.readLock();
        lock.lock();
        try {
            check(entry);
            if (!hasDirty) {
                next.extents(offset, length, sink);
                return;
            }
            long end = offset + length;
            cacheLock.lock();
            try {
                List<Extent> hits = dirty.overlapping(offset, end);
                if (!hits.isEmpty()) {
                    CachedExtents.report(next, offset, end, hits, sink);
                    return;
                }
            } finally {
                cacheLock.unlock();
            }
            next.extents(offset, length, sink);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String describe() {
        CacheMode m = mode;
        return next.describe() + (m == CacheMode.WRITETHROUGH ? "" : ", " + m.label() + " cache");
    }

    /** Drops any dirty data (a clean shutdown flushes first) and closes the overlay and the medium. */
    @Override
    public void close() throws IOException {
        Lock lock = power.writeLock();
        lock.lock();
        try {
            cacheLock.lock();
            try {
                dirty.clear();
                hasDirty = false;
                if (overlay != null) {
                    overlay.release(0, size()); // nothing worth syncing on close
                    overlay.close();
                    overlay = null;
                }
            } finally {
                cacheLock.unlock();
            }
        } finally {
            lock.unlock();
        }
        next.close();
    }

    // ---- internals; callers hold the locks named ----

    private long entryEpoch() {
        return ENTRY_EPOCH.isBound() ? ENTRY_EPOCH.get() : epoch;
    }

    /** Refuses a request if the power is off or failed since it entered (power lock held). */
    private void check(long entry) throws DeviceException {
        long now = epoch;
        if ((now & 1) != 0) {
            requestsCut.incrementAndGet();
            throw new DeviceException(Errno.ESHUTDOWN, "device is powered off");
        }
        if (entry != now) {
            requestsCut.incrementAndGet();
            throw new DeviceException(Errno.ESHUTDOWN, "power failed while the request was in flight");
        }
    }

    private Overlay overlay() throws IOException {
        if (overlay == null) {
            overlay = Overlay.create(overlayDir, size());
        }
        return overlay;
    }

    /** Frees the overlay space of pieces that left the cache (cache lock held). */
    private void release(List<Extent> pieces) throws IOException {
        if (overlay == null) {
            return;
        }
        for (ByteRange r : PowerCut.merge(pieces.stream().filter(p -> p.kind() == Kind.DATA).toList())) {
            overlay.release(r.offset(), r.length());
        }
        hasDirty = !dirty.isEmpty();
    }

    /** Writes every dirty piece in {@code [from, to)} to the medium and forgets it (cache lock held). */
    private void persist(long from, long to) throws IOException {
        for (Extent e : dirty.overlapping(from, to)) {
            writeDown(e);
            release(dirty.remove(e.start(), e.end()));
        }
        hasDirty = !dirty.isEmpty();
    }

    /** Writes one piece to the medium, without FUA (cache lock held). */
    private void writeDown(Extent e) throws IOException {
        switch (e.kind()) {
            case DATA -> {
                if (copyBuffer == null) {
                    copyBuffer = ByteBuffer.allocateDirect(COPY_BUFFER);
                }
                for (long pos = e.start(); pos < e.end(); ) {
                    int n = (int) Math.min(COPY_BUFFER, e.end() - pos);
                    ByteBuffer buf = copyBuffer.clear().limit(n);
                    overlay.read(pos, buf);
                    next.write(pos, buf.flip(), false);
                    pos += n;
                }
            }
            case ZERO -> next.writeZeroes(e.start(), e.length(), false, false, false);
            case ZERO_NO_HOLE -> next.writeZeroes(e.start(), e.length(), true, false, false);
            case TRIM -> next.trim(e.start(), e.length(), false);
        }
    }

    /** Applies a power cut to the dirty data (both locks held exclusively). */
    private PowerFailReport cut(PowerFailMode failMode, long seed) {
        PowerCut.Plan plan = PowerCut.plan(dirty.all(), failMode, seed);
        List<Extent> lost = new java.util.ArrayList<>(plan.lose());
        long bytesKept = 0;
        for (Extent piece : plan.keep()) {
            try {
                writeDown(piece);
                bytesKept += piece.length();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "power cut: writing a kept piece failed: {0}", e.toString());
                lost.add(piece);
            }
        }
        dirty.clear();
        hasDirty = false;
        if (overlay != null) {
            try {
                overlay.release(0, size());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "releasing overlay: {0}", e.toString());
            }
        }
        List<ByteRange> lostRanges = PowerCut.merge(lost);
        long bytesLost = lostRanges.stream().mapToLong(ByteRange::length).sum();
        return new PowerFailReport(failMode, seed, plan.writes(), plan.bytes(), plan.writesKept(), plan.writesTorn(),
                plan.writesLost(), bytesKept, bytesLost, lostRanges);
    }
}
