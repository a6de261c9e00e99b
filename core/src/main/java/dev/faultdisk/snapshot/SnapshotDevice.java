package dev.faultdisk.snapshot;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.ChangeCount;
import dev.faultdisk.device.ExtentSink;
import dev.faultdisk.device.InterceptingDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.device.ReadSource;
import dev.faultdisk.device.StagedPages;
import dev.faultdisk.device.StagedPayload;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;

/**
 * The export's medium with snapshots: the backend through a {@link SnapshotVolume}. Without
 * snapshots every request goes to the backend as it came, flags included, after one volatile
 * read. Deltas live in memory over a memory backend and in unlinked files in
 * {@code java.io.tmpdir} over a file backend.
 *
 * <p>Snapshot changes must run with no request in this layer: the export makes them under the
 * power switch held exclusively ({@code WriteCacheDevice.changeMedium}), which every request below
 * the cache holds shared. That is why the fast path needs no lock of its own.
 */
public final class SnapshotDevice extends InterceptingDevice {
    private final SnapshotVolume volume;
    /** False for a memory backend, which goes when the export closes: nothing to write back then. */
    private final boolean keepsData;
    /** Mirrors {@link SnapshotVolume#layered()}, changed only while no request runs here. */
    private volatile boolean layered;
    /** Changes made here: writes into the deltas, snapshots taken, reverted or deleted ({@link #readVersion}). */
    private final ChangeCount changes = new ChangeCount();

    public SnapshotDevice(BlockDevice backend) {
        this(backend, InstantSource.system());
    }

    public SnapshotDevice(BlockDevice backend, InstantSource clock) {
        super(backend);
        this.keepsData = !(backend instanceof MemoryDevice);
        this.volume = SnapshotVolume.over(
                new BackendMedium(backend), !keepsData, Path.of(System.getProperty("java.io.tmpdir")), clock);
    }

    // ---- snapshots (callers keep requests out of this layer meanwhile) ----

    /** Takes a snapshot of what the medium holds; see {@link SnapshotVolume#create}. */
    public SnapshotVolume.Snapshotted create(String name) {
        changes.bump();
        try {
            return volume.create(name);
        } finally {
            layered = volume.layered();
        }
    }

    /** Returns to a snapshot; the bytes dropped. See {@link SnapshotVolume#revert}. */
    public long revert(String name) throws IOException {
        changes.bump();
        return volume.revert(name);
    }

    /** Deletes a snapshot (the last one writes the deltas back). See {@link SnapshotVolume#delete}. */
    public void delete(String name) throws IOException {
        changes.bump();
        try {
            volume.delete(name);
        } finally {
            layered = volume.layered();
        }
    }

    /** Checks that {@code name} is a snapshot, with the error {@link #revert} would give. */
    public boolean has(String name) {
        return volume.has(name);
    }

    public List<SnapshotVolume.Snapshotted> snapshots() {
        return volume.snapshots();
    }

    /**
     * A device holding what snapshot {@code name} holds, with writes of its own that never reach
     * this medium; see {@link SnapshotVolume#cloneOf}. Instant: nothing is copied.
     */
    public CloneDevice cloneOf(String name, String description) {
        return new CloneDevice(volume.cloneOf(name), description);
    }

    /** True while clones read this medium: it must stay open and unchanged until they are closed. */
    public boolean hasClones() {
        return volume.hasClones();
    }

    // ---- data path ----

    @Override
    public long readVersion(BlockRequest r) {
        return BlockDevice.versionOver(changes.get(), next.readVersion(r));
    }

    /** Only without snapshots: with them the data may lie in a delta. */
    @Override
    public ReadSource readSource(BlockRequest r) throws IOException {
        return layered ? null : next.readSource(r);
    }

    /** Only without snapshots: with them the write goes to a delta. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        return !layered && next.writeStaged(r, payload);
    }

    @Override
    public StagedPages stagePages(long offset, int length) {
        return layered ? null : next.stagePages(offset, length);
    }

    /**
     * While layered, every request but a flush goes to the volume (a trim or write-zeroes as a
     * mark per whole block in the live delta, so FAST_ZERO never refuses; a trim's content is
     * undefined, so zeroes do); otherwise, and for a flush, to the backend as it came.
     */
    @Override
    protected void around(BlockRequest r, ByteBuffer data, ExtentSink sink) throws IOException {
        if (!layered) {
            proceed(r, data, sink);
            return;
        }
        switch (r.op()) {
            case READ -> volume.read(r.offset(), data);
            case WRITE -> {
                changes.begin();
                try {
                    volume.write(r.offset(), data);
                } finally {
                    changes.end();
                }
            }
            case TRIM, WRITE_ZEROES -> {
                changes.begin();
                try {
                    volume.zero(r.offset(), r.length());
                } finally {
                    changes.end();
                }
            }
            case BLOCK_STATUS -> volume.extents(r.offset(), r.length(), sink);
            case FLUSH -> proceed(r, data, sink);
        }
    }

    @Override
    public String describe() {
        return next.describe();
    }

    /** Writes what was written since the snapshots back into a file backend, so it keeps it, then closes. */
    @Override
    public void close() throws IOException {
        changes.bump();
        try {
            if (keepsData) {
                for (SnapshotVolume.Snapshotted s : volume.snapshots()) {
                    volume.delete(s.name());
                }
                // The last snapshot may have gone while a clone read the medium: its deltas are still here.
                volume.settle();
            }
            layered = volume.layered();
            volume.close();
        } finally {
            next.close();
        }
    }

    /** The backend as the volume's medium: requests of its own, without flags. */
    private record BackendMedium(BlockDevice backend) implements SnapshotVolume.Medium {
        @Override
        public long size() {
            return backend.size();
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            backend.read(BlockRequest.of(BlockOp.READ, offset, dst.remaining()), dst);
        }

        @Override
        public void write(long offset, ByteBuffer src) throws IOException {
            backend.write(BlockRequest.of(BlockOp.WRITE, offset, src.remaining()), src);
        }

        @Override
        public void zero(long offset, long length) throws IOException {
            backend.writeZeroes(BlockRequest.of(BlockOp.WRITE_ZEROES, offset, length));
        }

        @Override
        public void extents(long offset, long length, ExtentSink sink) throws IOException {
            backend.extents(BlockRequest.of(BlockOp.BLOCK_STATUS, offset, length), sink);
        }
    }
}
