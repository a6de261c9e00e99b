package dev.faultdisk.cache;

import dev.faultdisk.cache.DirtyMap.Extent;
import dev.faultdisk.cache.DirtyMap.Kind;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ChangeCount;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.ForwardingBlockDevice;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;
import dev.faultdisk.wire.net.RateLimitedLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A disk's volatile write cache, over a device that stands for the durable medium, under a
 * {@link PowerSwitch}. One per export, shared by all its connections.
 *
 * <p>In {@link CacheMode#WRITEBACK} a write, trim or write-zeroes acknowledged without FUA lives in
 * the cache (reads see it) until a flush persists it. The durability rule is NBD's: a flush makes
 * durable every request that completed before the flush started. It does so by persisting every
 * byte that was dirty when it started, with whatever content that byte holds when its turn comes
 * (a newer write may have replaced it: persisting more than asked is allowed). FUA makes its own
 * request durable before returning. Dirty data lives in an {@link Overlay} file, not on the heap.
 *
 * <p>Power: when the {@link PowerSwitch} cuts the power, unflushed data is lost or partly kept
 * according to a {@link PowerFailMode} and a seed ({@link PowerCut}); requests run under the
 * switch's shared lock, so each one either completed before the cut or fails with ESHUTDOWN.
 */
public final class WriteCacheDevice extends ForwardingBlockDevice {
    private static final System.Logger LOG = System.getLogger(WriteCacheDevice.class.getName());
    /** A flush persists at most this much per lock hold, so a power cut can land mid-flush. */
    private static final long FLUSH_STEP = 8L << 20;

    private static final int COPY_BUFFER = 1 << 20;
    /**
     * The dirty pieces a cache holds at most (about 215 bytes of heap each): past it the cache
     * writes everything back to the medium, as a full drive cache does, so that a client that
     * never flushes cannot grow the heap without end (one-byte writes a byte apart made 500,000
     * pieces, 107 MiB). Real caches hold far less: 500,000 writes of 4 KiB are 2 GiB.
     */
    static final int DEFAULT_MAX_DIRTY_PIECES = Integer.getInteger("faultdisk.cache.maxDirtyPieces", 500_000);

    private static final RateLimitedLog FULL_LOG = new RateLimitedLog(LOG, 10_000);
    private static final ByteBuffer ZEROES =
            ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

    private final InstantSource clock;
    private final Path overlayDir;
    private final PowerSwitch power;
    /** Guards the dirty map, the overlay and the sequence counter. */
    private final ReentrantLock cacheLock = new ReentrantLock();

    private final DirtyMap dirty = new DirtyMap();
    private final AtomicBoolean deferredErrorArmed = new AtomicBoolean();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong lyingFlushes = new AtomicLong();
    private final AtomicLong deferredErrors = new AtomicLong();
    private final AtomicLong bytesDroppedByDeferredErrors = new AtomicLong();
    private final AtomicLong fullWriteBacks = new AtomicLong();
    private final int maxDirtyPieces;
    /** Changed only with the power switch held exclusively, so a request sees one mode throughout. */
    private volatile CacheMode mode;
    /** Mirrors {@code !dirty.isEmpty()} for a lock-free fast path. */
    private volatile boolean hasDirty;
    /** Changes of what reads here return: writes cached or passed down, dirty data dropped ({@link #readVersion}). */
    private final ChangeCount changes = new ChangeCount();

    private long nextSeq = 1;
    private Overlay overlay;
    private ByteBuffer copyBuffer;

    /** A cache in the given mode under {@code power}, with the system clock and its overlay in {@code java.io.tmpdir}. */
    public WriteCacheDevice(BlockDevice next, CacheMode mode, PowerSwitch power) {
        this(next, mode, InstantSource.system(), Path.of(System.getProperty("java.io.tmpdir")), power);
    }

    /**
     * A cache under {@code power} whose dirty-age clock is {@code clock} and whose overlay file is
     * created in {@code overlayDir}. The switch's cuts apply to this cache.
     */
    public WriteCacheDevice(BlockDevice next, CacheMode mode, InstantSource clock, Path overlayDir, PowerSwitch power) {
        this(next, mode, clock, overlayDir, power, DEFAULT_MAX_DIRTY_PIECES);
    }

    /** As above, holding at most {@code maxDirtyPieces} dirty pieces before it writes them all back. */
    WriteCacheDevice(
            BlockDevice next,
            CacheMode mode,
            InstantSource clock,
            Path overlayDir,
            PowerSwitch power,
            int maxDirtyPieces) {
        super(next);
        if (maxDirtyPieces < 1) {
            throw new IllegalArgumentException("a write cache holds at least one dirty piece: " + maxDirtyPieces);
        }
        this.maxDirtyPieces = maxDirtyPieces;
        this.mode = Objects.requireNonNull(mode, "mode");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.overlayDir = Objects.requireNonNull(overlayDir, "overlayDir");
        this.power = Objects.requireNonNull(power, "power");
        power.attach(this::cutLocked);
    }

    /** The power switch this cache is under. */
    public PowerSwitch power() {
        return power;
    }

    // ---- control ----

    public CacheMode mode() {
        return mode;
    }

    /**
     * Switches the mode. Switching to writethrough first persists the cache, as a disk does when
     * its write cache is turned off, and disarms a deferred flush error: it stands for a cache
     * write-back that failed, and a disk without a cache has none left to fail (armed, it would fail
     * the flush of some later, unrelated write). Other switches keep dirty data and the error.
     *
     * @return whether an armed deferred flush error was disarmed
     */
    public boolean setMode(CacheMode newMode) throws IOException {
        Objects.requireNonNull(newMode, "mode");
        Lock lock = power.exclusive();
        try {
            if (newMode == CacheMode.WRITETHROUGH && hasDirty) {
                cacheLock.lock();
                try {
                    persist(0, size());
                } finally {
                    cacheLock.unlock();
                }
                next.flush(BlockRequest.flush());
            }
            mode = newMode;
            return newMode == CacheMode.WRITETHROUGH && deferredErrorArmed.getAndSet(false);
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

    /** Disarms a deferred write error armed and not yet met; returns whether one was. */
    public boolean disarmDeferredFlushError() {
        return deferredErrorArmed.getAndSet(false);
    }

    /** Zeroes the flush and deferred-error counters (a reset); dirty data stays. */
    public void resetCounters() {
        flushes.set(0);
        lyingFlushes.set(0);
        deferredErrors.set(0);
        bytesDroppedByDeferredErrors.set(0);
    }

    /** What happens to the cache before the medium below changes. */
    public enum BeforeChange {
        /** Dirty data stays: the change does not alter what clients read (deleting a snapshot). */
        KEEP,
        /**
         * Dirty data stays, and requests that entered before are refused, as after a power cut
         * (a reset: nothing issued before it lands after it).
         */
        FENCE,
        /** Dirty data is persisted first, so the medium holds what clients read (taking a snapshot). */
        PERSIST,
        /**
         * The medium is swapped (a revert): dirty data of the old one is dropped, and requests that
         * entered before are refused, as after a power cut.
         */
        DROP
    }

    /** A change of the medium, with what the cache dropped for it. */
    public record MediumChange<T>(T result, long droppedBytes, int droppedRanges) {}

    /** Something done to the medium with every request out of the way. */
    @FunctionalInterface
    public interface Change<T> {
        T apply() throws IOException;
    }

    /**
     * Runs {@code change} on the medium below with no request running under the power switch,
     * after doing {@code before} to the cache. With DROP, the reply says how much dirty data was
     * lost; nothing issued before lands on the medium after the change.
     */
    public <T> MediumChange<T> changeMedium(BeforeChange before, Change<T> change) throws IOException {
        Lock lock = power.exclusive();
        try {
            long bytes = 0;
            int ranges = 0;
            cacheLock.lock();
            try {
                if (before == BeforeChange.PERSIST && hasDirty) {
                    persist(0, size());
                } else if (before == BeforeChange.FENCE) {
                    power.swapped();
                } else if (before == BeforeChange.DROP) {
                    power.swapped();
                    bytes = dirty.dirtyBytes();
                    ranges = dirty.mergedRangeCount();
                    dropAll();
                }
            } finally {
                cacheLock.unlock();
            }
            if (before == BeforeChange.PERSIST) {
                next.flush(BlockRequest.flush());
            }
            return new MediumChange<>(change.apply(), bytes, ranges);
        } finally {
            lock.unlock();
        }
    }

    /** True while a power or mode change waits for running requests (tests use it to order events). */
    boolean powerLockQueued() {
        return power.queued();
    }

    /** Dirty data, counters and power state. */
    public CacheStatus status() {
        cacheLock.lock();
        try {
            Instant oldest = dirty.oldestCachedAt();
            Duration age = oldest == null ? Duration.ZERO : Duration.between(oldest, clock.instant());
            return new CacheStatus(
                    mode,
                    power.isOn(),
                    dirty.dirtyBytes(),
                    dirty.mergedRangeCount(),
                    dirty.writeCount(),
                    age.isNegative() ? Duration.ZERO : age,
                    deferredErrorArmed.get(),
                    flushes.get(),
                    lyingFlushes.get(),
                    deferredErrors.get(),
                    bytesDroppedByDeferredErrors.get(),
                    power.powerFails(),
                    power.requestsCut(),
                    fullWriteBacks.get());
        } finally {
            cacheLock.unlock();
        }
    }

    /** The dirty bytes as maximal contiguous ranges, in offset order. */
    public List<ByteRange> dirtyRanges() {
        cacheLock.lock();
        try {
            return dirty.mergedRanges().stream()
                    .map(r -> new ByteRange(r[0], r[1] - r[0]))
                    .toList();
        } finally {
            cacheLock.unlock();
        }
    }

    // ---- data path ----

    @Override
    public void read(BlockRequest r, ByteBuffer dst) throws IOException {
        lookUp(r, dst, null);
    }

    @Override
    public void extents(BlockRequest r, ExtentSink sink) throws IOException {
        lookUp(r, null, sink);
    }

    /** Unversioned while a read of {@code r} would be refused: the power is off or failed since it entered. */
    @Override
    public long readVersion(BlockRequest r) {
        return power.admits(r) ? BlockDevice.versionOver(changes.get(), next.readVersion(r)) : UNVERSIONED;
    }

    /**
     * The medium's file while the power is on and nothing cached overlaps the range: the medium
     * then has the newest data, as {@link #lookUp} finds. A refused entry is left to the read,
     * which reports it.
     */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        Lock lock;
        try {
            lock = power.enter(power.entryOf(r));
        } catch (DeviceException e) {
            return null;
        }
        try {
            if (hasDirty) {
                cacheLock.lock();
                try {
                    if (!dirty.overlapping(r.offset(), r.offset() + r.length()).isEmpty()) {
                        return null;
                    }
                } finally {
                    cacheLock.unlock();
                }
            }
            return next.readSource(r);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A read or a block status: served from the medium where nothing is cached, else merging the
     * cached pieces over the medium.
     */
    private void lookUp(BlockRequest r, ByteBuffer dst, ExtentSink sink) throws IOException {
        Lock lock = power.enter(power.entryOf(r));
        try {
            if (hasDirty) {
                long end = r.offset() + r.length();
                cacheLock.lock();
                try {
                    List<Extent> hits = dirty.overlapping(r.offset(), end);
                    if (!hits.isEmpty()) {
                        if (dst != null) {
                            readMerged(r, end, hits, dst);
                        } else {
                            CachedExtents.report(next, r, hits, sink);
                        }
                        return;
                    }
                } finally {
                    cacheLock.unlock();
                }
            }
            // Nothing cached here: the medium has the newest data, and no flush writes this range.
            if (dst != null) {
                next.read(r, dst);
            } else {
                next.extents(r, sink);
            }
        } finally {
            lock.unlock();
        }
    }

    private void readMerged(BlockRequest r, long end, List<Extent> hits, ByteBuffer dst) throws IOException {
        long pos = r.offset();
        for (Extent e : hits) {
            if (e.start() > pos) {
                readPart(r, pos, e.start(), dst, null);
            }
            readPart(r, e.start(), e.end(), dst, e.kind());
            pos = e.end();
        }
        if (pos < end) {
            readPart(r, pos, end, dst, null);
        }
    }

    /** Reads {@code [from, to)} into the next bytes of {@code dst}: from the medium, the overlay or zeroes. */
    private void readPart(BlockRequest r, long from, long to, ByteBuffer dst, Kind kind) throws IOException {
        int limit = dst.limit();
        dst.limit(dst.position() + (int) (to - from));
        try {
            if (kind == null) {
                next.read(r.at(from, to - from), dst);
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

    /**
     * In writethrough mode, straight down under the power switch as {@link #write} goes; a write
     * this cache would keep needs its bytes.
     */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        if (mode != CacheMode.WRITETHROUGH) {
            return false;
        }
        Lock lock = power.enter(power.entryOf(r));
        try {
            return mode == CacheMode.WRITETHROUGH && next.writeStaged(r, payload);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public StagedPages stagePages(long offset, int length) {
        return mode == CacheMode.WRITETHROUGH ? next.stagePages(offset, length) : null;
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) throws IOException {
        change(r, src);
    }

    @Override
    public void trim(BlockRequest r) throws IOException {
        change(r, null);
    }

    @Override
    public void writeZeroes(BlockRequest r) throws IOException {
        change(r, null);
    }

    /**
     * A write, trim or write-zeroes: passed down in writethrough mode and with FUA in writeback
     * mode (then forgetting what the cache held there), cached otherwise. Caching zeroes is
     * always fast, so FAST_ZERO never refuses here.
     */
    private void change(BlockRequest r, ByteBuffer src) throws IOException {
        Lock lock = power.enter(power.entryOf(r));
        changes.begin();
        try {
            CacheMode m = mode;
            if (m == CacheMode.WRITETHROUGH) {
                passDown(r, src);
                return;
            }
            if (src != null && !src.hasRemaining()) {
                return;
            }
            long offset = r.offset();
            long end = offset + (src != null ? src.remaining() : r.length());
            cacheLock.lock();
            try {
                if (r.fua() && m == CacheMode.WRITEBACK) {
                    passDown(r, src);
                    release(dirty.remove(offset, end));
                } else if (src != null) {
                    overlay().write(offset, src);
                    dirty.put(offset, end, nextSeq++, Kind.DATA, clock.instant());
                    hasDirty = true;
                } else {
                    cacheZeroes(
                            offset,
                            end - offset,
                            r.op() == BlockOp.TRIM
                                    ? Kind.TRIM
                                    : r.has(BlockRequest.Flag.NO_HOLE) ? Kind.ZERO_NO_HOLE : Kind.ZERO);
                }
                writeBackIfFull();
            } finally {
                cacheLock.unlock();
            }
        } finally {
            changes.end();
            lock.unlock();
        }
    }

    private void passDown(BlockRequest r, ByteBuffer src) throws IOException {
        switch (r.op()) {
            case WRITE -> next.write(r, src);
            case TRIM -> next.trim(r);
            default -> next.writeZeroes(r);
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
    public void flush(BlockRequest r) throws IOException {
        long entry = power.entryOf(r);
        List<long[]> ranges;
        Lock lock = power.enter(entry);
        try {
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
                lock = power.enter(entry);
                try {
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
        lock = power.enter(entry);
        try {
            next.flush(r);
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
            dropAll();
        } finally {
            cacheLock.unlock();
        }
        deferredErrors.incrementAndGet();
        bytesDroppedByDeferredErrors.addAndGet(bytes);
        return new DeviceException(
                Errno.EIO,
                "deferred write error: " + bytes + " cached bytes in " + ranges + " ranges were never written");
    }

    @Override
    public String describe() {
        CacheMode m = mode;
        return next.describe() + (m == CacheMode.WRITETHROUGH ? "" : ", " + m.label() + " cache");
    }

    /** Drops any dirty data (a clean shutdown flushes first) and closes the overlay and the medium. */
    @Override
    public void close() throws IOException {
        changes.bump();
        Lock lock = power.exclusive();
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
        for (ByteRange r : PowerCut.merge(
                pieces.stream().filter(p -> p.kind() == Kind.DATA).toList())) {
            overlay.release(r.offset(), r.length());
        }
        hasDirty = !dirty.isEmpty();
    }

    /** Forgets every dirty piece, unwritten (cache lock held). */
    private void dropAll() throws IOException {
        changes.bump();
        release(dirty.all());
        dirty.clear();
        hasDirty = false;
    }

    /**
     * Past the budget of dirty pieces, writes every one back to the medium (cache lock held): a
     * power cut then loses only what came after, as with a drive whose cache filled.
     */
    private void writeBackIfFull() throws IOException {
        int pieces = dirty.extentCount();
        if (pieces <= maxDirtyPieces) {
            return;
        }
        for (long[] range : dirty.mergedRanges()) {
            persist(range[0], range[1]);
        }
        fullWriteBacks.incrementAndGet();
        FULL_LOG.log(
                System.Logger.Level.WARNING,
                "full",
                "a write cache held " + pieces + " dirty pieces, past its budget (-Dfaultdisk.cache.maxDirtyPieces="
                        + maxDirtyPieces + "): all written back to the medium");
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
                    next.write(BlockRequest.of(BlockOp.WRITE, pos, n), buf.flip());
                    pos += n;
                }
            }
            case ZERO -> next.writeZeroes(BlockRequest.of(BlockOp.WRITE_ZEROES, e.start(), e.length()));
            case ZERO_NO_HOLE ->
                next.writeZeroes(
                        BlockRequest.of(BlockOp.WRITE_ZEROES, e.start(), e.length(), BlockRequest.Flag.NO_HOLE));
            case TRIM -> next.trim(BlockRequest.of(BlockOp.TRIM, e.start(), e.length()));
        }
    }

    /** Applies a power cut to the dirty data (the switch held exclusively). */
    private PowerFailReport cutLocked(PowerFailMode failMode, long seed) {
        cacheLock.lock();
        try {
            return cut(failMode, seed);
        } finally {
            cacheLock.unlock();
        }
    }

    /** Applies a power cut to the dirty data (the switch held exclusively, the cache lock held). */
    private PowerFailReport cut(PowerFailMode failMode, long seed) {
        changes.bump();
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
        return new PowerFailReport(
                failMode,
                seed,
                plan.writes(),
                plan.bytes(),
                plan.writesKept(),
                plan.writesTorn(),
                plan.writesLost(),
                bytesKept,
                bytesLost,
                lostRanges);
    }
}
