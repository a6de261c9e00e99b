package dev.faultdisk.client;

import dev.faultdisk.client.ReplyRecord.Absent;

/**
 * What holds a piece of an export, from {@code query-file-map} and in fault events' {@code files}.
 *
 * @param kind       {@code file}, {@code directory}, {@code metadata} or {@code unowned}
 * @param name       the file's path, the structure's name ({@code ext4 journal}), or {@code unowned}
 * @param fileOffset where the piece starts in the file, or -1
 * @param offset     where it starts on the export
 * @param length     its length
 */
public record FileOwner(
        String kind, String name, @Absent("-1") long fileOffset, long offset, long length) {
    public static FileOwner from(Object value) {
        return ReplyRecord.read(FileOwner.class, value, "owner");
    }
}
