package dev.faultdisk.history;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.history.HistoryEntry;
import dev.faultdisk.wire.history.HistoryReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Puts an export's data into a crash state of a recorded history ({@link CrashState}), from the
 * history's base snapshot, copy-on-write: nothing is copied but the changes applied.
 *
 * <p>Incremental: it keeps a checkpoint snapshot holding the base plus the changes of the last
 * prefix it built. A state with the same prefix costs a revert to the checkpoint (time
 * proportional to what the last state and its check changed) plus the state's own changes; a
 * longer prefix applies only the entries between the two. Exploration visits crash points in log
 * order, so building every prefix costs one pass over the log in all.
 */
public final class Materializer implements AutoCloseable {
    /** What the materializer does to the export: snapshots and the device changes are written to. */
    public interface Medium {
        /** Returns the export's data to snapshot {@code name}, dropping cached data. */
        void revert(String name) throws IOException;

        /** Takes snapshot {@code name} of the data now. */
        void create(String name) throws IOException;

        /** Deletes snapshot {@code name} if it exists. */
        void delete(String name) throws IOException;

        /** The device changes are written to: below the recorder, so nothing applied is recorded. */
        BlockDevice device();
    }

    private static final int CHUNK = 1 << 20;

    private final HistoryReader history;
    private final Medium medium;
    private final String checkpoint;
    private long checkpointPrefix = -1;
    private long statesBuilt;
    private long bytesApplied;

    public Materializer(HistoryReader history, Medium medium) {
        this.history = history;
        this.medium = medium;
        this.checkpoint = history.header().baseSnapshot() + ".checkpoint";
    }

    public HistoryReader history() {
        return history;
    }

    /** The snapshot holding the last prefix built. */
    public String checkpointName() {
        return checkpoint;
    }

    public long statesBuilt() {
        return statesBuilt;
    }

    public long bytesApplied() {
        return bytesApplied;
    }

    /** Makes the export's data {@code state}; returns the bytes written to get there from the last checkpoint. */
    public synchronized long materialize(CrashState state) throws IOException {
        List<HistoryEntry> entries = history.entries();
        if (state.prefix() > entries.size()) {
            throw new IllegalArgumentException(
                    "prefix " + state.prefix() + " is past the history's end (" + entries.size() + " entries)");
        }
        for (long i : state.applied()) {
            if (i >= entries.size() || !entries.get((int) i).isChange()) {
                throw new IllegalArgumentException("entry " + i + " is not a change of this history");
            }
        }
        long before = bytesApplied;
        if (state.prefix() == 0) {
            medium.revert(history.header().baseSnapshot());
        } else if (state.prefix() == checkpointPrefix) {
            medium.revert(checkpoint);
        } else {
            long from = 0;
            if (checkpointPrefix > 0 && checkpointPrefix < state.prefix()) {
                medium.revert(checkpoint);
                from = checkpointPrefix;
            } else {
                medium.revert(history.header().baseSnapshot());
            }
            for (long i = from; i < state.prefix(); i++) {
                HistoryEntry e = entries.get((int) i);
                if (e.isChange()) {
                    apply(e, null);
                }
            }
            checkpointPrefix = -1;
            medium.delete(checkpoint);
            medium.create(checkpoint);
            checkpointPrefix = state.prefix();
        }
        for (long i : state.applied()) {
            apply(entries.get((int) i), state.torn().get(i));
        }
        medium.device().flush(BlockRequest.flush());
        statesBuilt++;
        return bytesApplied - before;
    }

    private void apply(HistoryEntry e, List<Integer> blocks) throws IOException {
        if (blocks == null) {
            applyRange(e, 0, e.length());
            return;
        }
        int bs = history.header().blockSize();
        for (int b : blocks) {
            long skip = (long) b * bs;
            if (skip < e.length()) {
                applyRange(e, skip, Math.min(bs, e.length() - skip));
            }
        }
    }

    private void applyRange(HistoryEntry e, long skip, long length) throws IOException {
        BlockDevice d = medium.device();
        switch (e.kind()) {
            case WRITE -> {
                long done = 0;
                while (done < length) {
                    int n = (int) Math.min(CHUNK, length - done);
                    ByteBuffer buf = ByteBuffer.allocate(n);
                    history.read(e, skip + done, buf);
                    buf.flip();
                    d.write(BlockRequest.of(BlockOp.WRITE, e.offset() + skip + done, n), buf);
                    done += n;
                }
            }
            // A trimmed range may read as anything; zeroes are what most devices give.
            case TRIM, WRITE_ZEROES ->
                d.writeZeroes(
                        BlockRequest.of(BlockOp.WRITE_ZEROES, e.offset() + skip, length, BlockRequest.Flag.NO_HOLE));
            default -> throw new IllegalArgumentException("entry " + e.index() + " is a " + e.kind());
        }
        bytesApplied += length;
    }

    /** Deletes the checkpoint snapshot and closes the history. */
    @Override
    public synchronized void close() throws IOException {
        try {
            medium.delete(checkpoint);
        } finally {
            history.close();
        }
    }
}
