package dev.faultdisk.cli;

import dev.faultdisk.filemap.MountSource;
import java.nio.file.Path;

/** What the kernel says is mounted (from the file map's mount table reader). */
public final class Mounts {
    private Mounts() {}

    /** True if {@code dir} is a mount point now. */
    public static boolean isMountPoint(Path dir) {
        return MountSource.isMountPoint(dir);
    }
}
