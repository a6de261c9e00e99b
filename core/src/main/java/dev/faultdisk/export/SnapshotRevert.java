package dev.faultdisk.export;

/**
 * What a revert did: the bytes written since the snapshot that it dropped (whole 4 KiB blocks),
 * and the write cache's dirty data it dropped with the old medium.
 */
public record SnapshotRevert(String name, long bytesReverted, long cacheBytesDropped, int cacheRangesDropped) {}
