package dev.faultdisk.export;

import com.google.errorprone.annotations.Immutable;
import dev.faultdisk.cache.PowerGate;
import dev.faultdisk.cache.WriteCacheDevice;
import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.CountingDevice;
import dev.faultdisk.device.ReadOnlyDevice;
import dev.faultdisk.fault.FaultDevice;
import dev.faultdisk.fault.blkdebug.BlkdebugDevice;
import dev.faultdisk.history.RecorderDevice;
import dev.faultdisk.snapshot.SnapshotDevice;
import dev.faultdisk.trigger.TriggerDevice;

/**
 * The slots of an export's device stack, top to bottom: the one place the order of layers is
 * written down. A new layer is one constant here, at its place, with how it is built over the
 * layer below from the export's {@link ExportParts}.
 *
 * <p>Why this order: counting sees what clients asked, whatever happens below. The power gate
 * stamps the epoch a request entered at, so the write cache refuses a request a fault layer held
 * across a power cut instead of landing it after the cut. Triggers count requests before any fault
 * acts on them, so "the 21st write" is the 21st the client sent. The fault layer sits above blkdebug: a
 * request it holds, delays or fails never reaches blkdebug's events, and blkdebug sees a write
 * where the fault layer sends it (misdirected, torn, corrupted). Read-only sits above the cache,
 * so nothing is cached that the export refuses. The recorder sits right above the cache: it logs
 * what reached the medium's side after every fault acted, with the client's FUA and flushes. Snapshots sit under the cache, as the medium the
 * cache writes back to: a revert swaps that medium, and the cache's dirty data goes with the old one.
 */
public enum Layer {
    /** Operation, byte and error counters ({@link CountingDevice}). */
    COUNTING((below, parts) -> new CountingDevice(below, parts.stats())),
    /** Stamps the power epoch on requests ({@link PowerGate}). */
    POWER_GATE((below, parts) -> new PowerGate(below, parts.power())),
    /** The server's triggers, acting inside the request that fires them ({@link TriggerDevice}). */
    TRIGGERS((below, parts) -> new TriggerDevice(below, parts.name(), parts.power(), parts.faults(), parts.time())),
    /** The fault catalogue's rules ({@link FaultDevice}). */
    FAULTS((below, parts) -> new FaultDevice(below, parts.faults())),
    /** QEMU blkdebug rules and breakpoints ({@link BlkdebugDevice}). */
    BLKDEBUG((below, parts) -> new BlkdebugDevice(below, parts.blkdebug())),
    /** Refuses changes when the export is read-only over a writable backend ({@link ReadOnlyDevice}). */
    READ_ONLY((below, parts) -> parts.readOnly() && !below.isReadOnly() ? new ReadOnlyDevice(below) : below),
    /** Records what requests did to the medium while a history runs ({@link RecorderDevice}, docs/EXPLORE.md). */
    RECORDER((below, parts) -> new RecorderDevice(below, parts.time())),
    /** The volatile write cache under the power switch ({@link WriteCacheDevice}). */
    WRITE_CACHE((below, parts) -> new WriteCacheDevice(below, parts.cacheMode(), parts.power())),
    /** Named snapshots of the medium, copy-on-write; requests pass straight through while there are none ({@link SnapshotDevice}). */
    SNAPSHOTS((below, parts) -> new SnapshotDevice(below)),
    /** The medium: memory or a file. */
    BACKEND((below, parts) -> parts.backend());

    /** Builds a layer over the one below it (null for the backend); returning {@code below} leaves the slot empty. */
    @FunctionalInterface
    @Immutable
    interface Factory {
        BlockDevice build(BlockDevice below, ExportParts parts);
    }

    private final Factory factory;

    Layer(Factory factory) {
        this.factory = factory;
    }

    BlockDevice build(BlockDevice below, ExportParts parts) {
        return factory.build(below, parts);
    }
}
