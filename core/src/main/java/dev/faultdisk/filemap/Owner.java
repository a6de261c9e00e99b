package dev.faultdisk.filemap;

/**
 * What a piece of a device holds: a part of a file (or directory), a named file-system
 * structure, or nothing known.
 *
 * @param kind         what sort of owner this is
 * @param name         the file's path (absolute, under the mount point), the structure's name
 *                     ({@code "ext4 inode table"}, {@code "ext4 journal"}, ...), or {@code "unowned"}
 * @param fileOffset   for a file or directory, where the piece starts in it; else -1
 * @param deviceOffset where the piece starts on the device
 * @param length       the piece's length
 */
public record Owner(Kind kind, String name, long fileOffset, long deviceOffset, long length) {
    /** The kinds of owner. */
    public enum Kind {
        FILE("file"),
        DIRECTORY("directory"),
        METADATA("metadata"),
        UNOWNED("unowned");

        private final String wireName;

        Kind(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /** One line for people: {@code /mnt/a.txt+4096 (8192 bytes)} or {@code ext4 journal}. */
    public String describe() {
        return switch (kind) {
            case FILE, DIRECTORY -> name + "+" + fileOffset + " (" + length + " bytes)";
            case METADATA, UNOWNED -> name + " (" + length + " bytes at " + deviceOffset + ")";
        };
    }
}
