package dev.faultdisk.filemap;

/**
 * A named file-system structure at a place on the device: a superblock, a group's inode table,
 * the journal.
 *
 * @param name         {@code "ext4 inode table"}, {@code "ext4 journal"}, {@code "xfs log"}, ...
 * @param deviceOffset where it starts on the device
 * @param length       its length in bytes
 */
public record Structure(String name, long deviceOffset, long length) {
    public long deviceEnd() {
        return deviceOffset + length;
    }
}
