package dev.faultdisk.cache;

import dev.faultdisk.wire.CacheMode;
import java.time.Duration;

/**
 * A snapshot of a write cache, for queries (QMP {@code query-dirty}, tests).
 *
 * @param mode current cache mode
 * @param poweredOn false between {@link PowerSwitch#powerOff} and {@link PowerSwitch#powerOn}
 * @param dirtyBytes bytes acknowledged but not yet durable
 * @param dirtyRanges maximal contiguous dirty byte ranges
 * @param dirtyWrites writes, trims and write-zeroes with at least one dirty byte
 * @param oldestDirtyAge how long ago the oldest of those was acknowledged; zero when clean
 * @param deferredErrorArmed true if the next flush will fail with EIO and drop what it should persist
 * @param flushes flushes that persisted the cache
 * @param lyingFlushes flushes acknowledged without persisting anything ({@link CacheMode#LYING_FLUSH})
 * @param deferredErrors flushes that reported an armed deferred write error
 * @param bytesDroppedByDeferredErrors dirty bytes those flushes dropped
 * @param powerFails power failures so far
 * @param requestsCut requests refused because the power failed after they entered the device
 * @param fullWriteBacks times the cache held more dirty pieces than its budget and wrote them all back
 */
public record CacheStatus(
        CacheMode mode,
        boolean poweredOn,
        long dirtyBytes,
        int dirtyRanges,
        int dirtyWrites,
        Duration oldestDirtyAge,
        boolean deferredErrorArmed,
        long flushes,
        long lyingFlushes,
        long deferredErrors,
        long bytesDroppedByDeferredErrors,
        long powerFails,
        long requestsCut,
        long fullWriteBacks) {}
