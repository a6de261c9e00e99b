package dev.faultdisk.device;

import java.nio.channels.FileChannel;

/**
 * Where the bytes of a read already lie, so that a frontend may send them to its client without
 * reading them into a buffer first ({@link BlockDevice#readSource}): a file, or pages in memory.
 */
public sealed interface ReadSource permits ReadSource.File, PageSource {
    /** The read's bytes are {@code channel}'s at the read's offset. */
    record File(FileChannel channel) implements ReadSource {}
}
