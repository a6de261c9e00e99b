package dev.faultdisk.snapshot;

import dev.faultdisk.device.ExtentSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An export's medium with named snapshots, copy-on-write in 4 KiB blocks. Without snapshots every
 * request goes to the medium as it is. The first snapshot freezes the medium: from then on writes
 * go to a live {@link Delta} over a chain of frozen deltas (newest first) over the medium, and a
 * read takes each block from the newest layer that holds it. A snapshot is the chain at the
 * moment it was taken; reverting puts an empty live delta over that chain again, so a revert costs
 * what it drops (the deltas written since), never the size of the disk. Snapshots form a tree:
 * reverting to an older one keeps the newer ones, whose chains stay valid.
 *
 * <p>A clone is a second volume over a snapshot's chain with a live delta of its own: instant,
 * and it never writes the medium. While clones use the medium, the origin keeps its deltas even
 * when its last snapshot is deleted; otherwise deleting the last snapshot writes the deltas back
 * into the medium and requests go straight to it again.
 */
public final class SnapshotVolume implements AutoCloseable {
    /** Snapshots one export may hold: each adds a layer that reads may have to look through. */
    public static final int MAX_SNAPSHOTS = 64;

    static final int BLOCK = SlotStore.BLOCK;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(BLOCK).asReadOnlyBuffer();

    /** The medium below: the export's backend. */
    public interface Medium {
        long size();

        void read(long offset, ByteBuffer dst) throws IOException;

        void write(long offset, ByteBuffer src) throws IOException;

        /** Makes the range read as zeroes. */
        void zero(long offset, long length) throws IOException;

        void extents(long offset, long length, ExtentSink sink) throws IOException;
    }

    /** A snapshot as query-snapshots shows it. */
    public record Snapshotted(String name, Instant time, long bytesChangedSince) {}

    private record Snapshot(String name, Instant time, List<Delta> chain) {}

    private final Medium medium;
    private final Delta.Storage storage;
    private final InstantSource clock;
    private final boolean clone;
    /** Clones reading the medium, shared by an origin and its clones: while any exist, the medium must not change. */
    private final AtomicInteger clonesOfMedium;

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, Snapshot> snapshots = new LinkedHashMap<>();
    /** Null while requests go straight to the medium. */
    private Delta live;
    /** Frozen deltas under {@link #live}, newest first. */
    private List<Delta> frozen = List.of();

    private boolean closed;

    private SnapshotVolume(
            Medium medium,
            Delta.Storage storage,
            InstantSource clock,
            boolean clone,
            AtomicInteger clonesOfMedium,
            List<Delta> chain) {
        this.medium = medium;
        this.storage = storage;
        this.clock = clock;
        this.clone = clone;
        this.clonesOfMedium = clonesOfMedium;
        if (clone) {
            this.frozen = chain;
            this.live = new Delta(storage);
        }
    }

    /** A volume over {@code medium}; deltas keep their blocks in memory, or in unlinked files in a directory. */
    public static SnapshotVolume over(
            Medium medium, boolean deltasInMemory, java.nio.file.Path tempDir, InstantSource clock) {
        Delta.Storage storage = deltasInMemory ? SlotStore::inMemory : () -> SlotStore.inFile(tempDir);
        return new SnapshotVolume(medium, storage, clock, false, new AtomicInteger(), List.of());
    }

    public long size() {
        return medium.size();
    }

    /** True while requests go through deltas; false while they go straight to the medium. */
    public boolean layered() {
        lock.readLock().lock();
        try {
            return live != null;
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---- data ----

    public void read(long offset, ByteBuffer dst) throws IOException {
        lock.readLock().lock();
        try {
            if (live == null) {
                medium.read(offset, dst);
            } else {
                readChain(offset, dst);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    public void write(long offset, ByteBuffer src) throws IOException {
        if (writeThrough(offset, src, 0)) {
            return;
        }
        lock.writeLock().lock();
        try {
            long pos = offset;
            ByteBuffer block = null;
            while (src.hasRemaining()) {
                long b = pos / BLOCK;
                int within = (int) (pos % BLOCK);
                int n = Math.min(src.remaining(), BLOCK - within);
                ByteBuffer part = src.slice(src.position(), n);
                if (n == BLOCK) {
                    live.put(b, part);
                } else {
                    if (block == null) {
                        block = ByteBuffer.allocate(BLOCK);
                    }
                    live.put(b, merged(b, within, part, block));
                }
                src.position(src.position() + n);
                pos += n;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Makes the range read as zeroes (write-zeroes, and trim, whose content is undefined afterwards). */
    public void zero(long offset, long length) throws IOException {
        if (writeThrough(offset, null, length)) {
            return;
        }
        lock.writeLock().lock();
        try {
            long pos = offset;
            long end = offset + length;
            long firstWhole = (pos + BLOCK - 1) / BLOCK;
            long endWhole = end / BLOCK;
            if (live.zeroesAsRun(endWhole - firstWhole)) {
                zeroPart(pos, firstWhole * BLOCK); // the partial blocks at either end, then one run
                live.putZeroRun(firstWhole, endWhole);
                zeroPart(endWhole * BLOCK, end);
                return;
            }
            zeroPart(pos, end);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Marks {@code [pos, end)} zero in the live delta a block at a time; the caller holds the write lock. */
    private void zeroPart(long pos, long end) throws IOException {
        while (pos < end) {
            long b = pos / BLOCK;
            int within = (int) (pos % BLOCK);
            int n = (int) Math.min(end - pos, BLOCK - within);
            if (n == BLOCK) {
                live.putZero(b);
            } else {
                live.put(b, merged(b, within, ZEROES.duplicate().limit(n), ByteBuffer.allocate(BLOCK)));
            }
            pos += n;
        }
    }

    /**
     * Block {@code b} as the chain holds it with {@code part} written at {@code within}, in
     * {@code block} (ready to read). The last block of a disk whose size is not a multiple of
     * 4 KiB is padded with zeroes.
     */
    private ByteBuffer merged(long b, int within, ByteBuffer part, ByteBuffer block) throws IOException {
        int span = (int) Math.min(BLOCK, size() - b * BLOCK);
        block.clear();
        block.put(ZEROES.duplicate()); // the tail past the end of a disk reads as zeroes
        block.clear();
        readChain(b * BLOCK, block.clear().limit(span));
        block.clear().position(within);
        block.put(part);
        return block.clear();
    }

    /**
     * Without snapshots, writes to the medium under the read lock (writers run concurrently; a
     * snapshot being taken waits for them) and returns true; with snapshots, returns false.
     */
    private boolean writeThrough(long offset, ByteBuffer src, long zeroLength) throws IOException {
        lock.readLock().lock();
        try {
            if (live != null) {
                return false;
            }
            if (src != null) {
                medium.write(offset, src);
            } else {
                medium.zero(offset, zeroLength);
            }
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Allocation: blocks a delta holds are data (or zero), the rest is as the medium says. With
     * snapshots the reply may end before {@code length} (see {@link ChainExtents}).
     */
    public void extents(long offset, long length, ExtentSink sink) throws IOException {
        lock.readLock().lock();
        try {
            if (live == null) {
                medium.extents(offset, length, sink);
                return;
            }
            new ChainExtents(layers(), medium).extents(offset, length, sink);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** What {@link #extents} walks with snapshots, for a test to take each walk; null without. */
    ChainExtents chainExtents() {
        lock.readLock().lock();
        try {
            return live == null ? null : new ChainExtents(layers(), medium);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The deltas a read looks through, newest first; caller holds a lock and {@link #live} is set. */
    private List<Delta> layers() {
        if (live.isEmpty()) {
            return frozen;
        }
        List<Delta> layers = new ArrayList<>(frozen.size() + 1);
        layers.add(live);
        layers.addAll(frozen);
        return layers;
    }

    /** Caller holds a lock and {@link #live} is set. */
    private void readChain(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            long b = pos / BLOCK;
            int within = (int) (pos % BLOCK);
            int n = Math.min(dst.remaining(), BLOCK - within);
            Delta holder = holder(b);
            if (holder == null) {
                // A run of blocks no delta holds: one read of the medium.
                int run = n;
                while (run < dst.remaining() && holder((pos + run) / BLOCK) == null) {
                    run = Math.min(dst.remaining(), run + BLOCK);
                }
                medium.read(pos, dst.slice(dst.position(), run));
                n = run;
            } else {
                int slot = holder.lookup(b);
                if (slot == BlockIndex.ZERO) {
                    dst.put(dst.position(), ZEROES, 0, n);
                } else {
                    holder.read(slot, within, dst.slice(dst.position(), n));
                }
            }
            dst.position(dst.position() + n);
            pos += n;
        }
    }

    /** The newest layer holding {@code block}, or null for the medium. */
    private Delta holder(long block) {
        if (!live.isEmpty() && live.lookup(block) != BlockIndex.MISSING) {
            return live;
        }
        for (Delta d : frozen) {
            if (d.lookup(block) != BlockIndex.MISSING) {
                return d;
            }
        }
        return null;
    }

    // ---- snapshots ----

    /**
     * Takes a snapshot of what the volume holds now.
     *
     * @throws IllegalArgumentException if the name is taken or there are {@link #MAX_SNAPSHOTS}
     */
    public Snapshotted create(String name) {
        lock.writeLock().lock();
        try {
            checkOpen();
            if (snapshots.containsKey(name)) {
                throw new IllegalArgumentException("snapshot '" + name + "' exists already");
            }
            if (snapshots.size() >= MAX_SNAPSHOTS) {
                throw new IllegalArgumentException("an export holds at most " + MAX_SNAPSHOTS + " snapshots");
            }
            if (live == null) {
                live = new Delta(storage);
            } else if (!live.isEmpty()) {
                List<Delta> chain = new ArrayList<>(frozen.size() + 1);
                chain.add(live);
                chain.addAll(frozen);
                frozen = List.copyOf(chain);
                live = new Delta(storage);
            }
            Snapshot s = new Snapshot(name, clock.instant(), retain(frozen));
            snapshots.put(name, s);
            return info(s);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Returns the volume to a snapshot: what was written since is dropped; the snapshot and all
     * others stay. Returns the bytes dropped (distinct 4 KiB blocks written since the snapshot).
     */
    public long revert(String name) throws IOException {
        lock.writeLock().lock();
        try {
            checkOpen();
            Snapshot s = find(name);
            long dropped = changedSince(s);
            live.release();
            release(frozen);
            frozen = retain(s.chain);
            live = new Delta(storage);
            return dropped;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Deletes a snapshot; the data the volume holds does not change. */
    public void delete(String name) throws IOException {
        lock.writeLock().lock();
        try {
            checkOpen();
            Snapshot s = find(name);
            snapshots.remove(name);
            release(s.chain);
            writeBackIfUnshared();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * With no snapshot and no clone left, writes the deltas back into the medium, as deleting the
     * last snapshot does: for when that delete came while a clone still read the medium.
     */
    public void settle() throws IOException {
        lock.writeLock().lock();
        try {
            if (!closed) {
                writeBackIfUnshared();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Caller holds the write lock. */
    private void writeBackIfUnshared() throws IOException {
        if (live != null && snapshots.isEmpty() && !clone && clonesOfMedium.get() == 0) {
            writeBack();
        }
    }

    /** Caller holds the write lock: the deltas go into the medium, oldest first, and requests go straight to it. */
    private void writeBack() throws IOException {
        List<Delta> layers = new ArrayList<>(frozen.reversed());
        layers.add(live);
        ByteBuffer block = ByteBuffer.allocate(BLOCK);
        for (Delta d : layers) {
            // Its zeroed runs, then the blocks its index holds (which override the runs).
            List<long[]> runs = new ArrayList<>();
            d.forEachZeroRun((first, end) -> runs.add(new long[] {first, end}));
            for (long[] run : runs) {
                medium.zero(run[0] * BLOCK, Math.min(size(), run[1] * BLOCK) - run[0] * BLOCK);
            }
            List<Long> blocks = new ArrayList<>();
            d.forEachBlock(blocks::add);
            for (long b : blocks) {
                int slot = d.lookup(b);
                long offset = b * BLOCK;
                int n = (int) Math.min(BLOCK, size() - offset);
                if (slot == BlockIndex.ZERO) {
                    medium.zero(offset, n);
                } else {
                    d.read(slot, 0, block.clear().limit(n));
                    medium.write(offset, block.flip());
                }
            }
        }
        live.release();
        release(frozen);
        live = null;
        frozen = List.of();
    }

    /** The snapshots, oldest first. */
    public List<Snapshotted> snapshots() {
        lock.readLock().lock();
        try {
            List<Snapshotted> out = new ArrayList<>();
            for (Snapshot s : snapshots.values()) {
                out.add(info(s));
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    public boolean has(String name) {
        lock.readLock().lock();
        try {
            return snapshots.containsKey(name);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * A new volume holding what snapshot {@code name} holds, with writes of its own: instant, it
     * shares the snapshot's blocks and the medium, and never writes either.
     */
    public SnapshotVolume cloneOf(String name) {
        lock.writeLock().lock();
        try {
            checkOpen();
            Snapshot s = find(name);
            clonesOfMedium.incrementAndGet();
            return new SnapshotVolume(medium, storage, clock, true, clonesOfMedium, retain(s.chain));
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** True while clones of this volume's snapshots read its medium. */
    public boolean hasClones() {
        return !clone && clonesOfMedium.get() > 0;
    }

    @Override
    public void close() throws IOException {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Snapshot s : snapshots.values()) {
                release(s.chain);
            }
            snapshots.clear();
            if (live != null) {
                live.release();
                release(frozen);
            }
            if (clone) {
                clonesOfMedium.decrementAndGet();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private Snapshotted info(Snapshot s) {
        return new Snapshotted(s.name, s.time, changedSince(s));
    }

    /** Caller holds a lock: distinct blocks in the layers above the snapshot's chain, in bytes. */
    private long changedSince(Snapshot s) {
        Set<Delta> base = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        base.addAll(s.chain);
        List<Delta> above = new ArrayList<>();
        if (live != null) {
            above.add(live);
        }
        for (Delta d : frozen) {
            if (!base.contains(d)) {
                above.add(d);
            }
        }
        BlockRuns runs = new BlockRuns();
        for (Delta d : above) {
            d.forEachZeroRun(runs::add);
        }
        BlockIndex seen =
                new BlockIndex(above.stream().mapToLong(Delta::indexed).sum());
        for (Delta d : above) {
            d.forEachBlock(b -> {
                if (!runs.covers(b)) {
                    seen.put(b, 0);
                }
            });
        }
        return (runs.blocks() + seen.size()) * BLOCK;
    }

    private Snapshot find(String name) {
        Snapshot s = snapshots.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no snapshot '" + name + "'"
                    + (snapshots.isEmpty() ? "" : " (there are: " + String.join(", ", snapshots.keySet()) + ")"));
        }
        return s;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the volume is closed");
        }
    }

    private static List<Delta> retain(List<Delta> chain) {
        for (Delta d : chain) {
            d.retain();
        }
        return chain;
    }

    private static void release(List<Delta> chain) throws IOException {
        for (Delta d : chain) {
            d.release();
        }
    }
}
