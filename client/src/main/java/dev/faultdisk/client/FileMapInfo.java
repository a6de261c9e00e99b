package dev.faultdisk.client;

/**
 * An export's file map as {@code file-map-attach} and {@code file-map-refresh} report it.
 *
 * @param mount      the mount point
 * @param source     the device the file system is mounted from ({@code /dev/loop3})
 * @param fsType     its type
 * @param files      files and directories mapped
 * @param structures file-system structures named
 */
public record FileMapInfo(String mount, String source, String fsType, long files, long structures) {
    public static FileMapInfo from(Object value) {
        return ReplyRecord.read(FileMapInfo.class, value, "file map");
    }
}
