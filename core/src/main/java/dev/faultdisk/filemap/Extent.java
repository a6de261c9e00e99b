package dev.faultdisk.filemap;

/**
 * One extent of a file: {@code length} bytes at {@code fileOffset} in the file lie at
 * {@code deviceOffset} on the block device under the file system (for a loop device on an
 * export's file with no offset, that is the export's byte offset).
 *
 * @param fileOffset   where the extent starts in the file
 * @param deviceOffset where it starts on the device
 * @param length       its length in bytes
 * @param flags        FIEMAP extent flags ({@link Fiemap#UNWRITTEN} and the others)
 */
public record Extent(long fileOffset, long deviceOffset, long length, int flags) {
    /** The device offset just past the extent. */
    public long deviceEnd() {
        return deviceOffset + length;
    }

    /** True if the allocated blocks read as zeros, whatever the device holds. */
    public boolean unwritten() {
        return (flags & Fiemap.UNWRITTEN) != 0;
    }
}
