package dev.faultdisk.cli;

import dev.faultdisk.filemap.MountSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the kernel says is mounted (from the file map's mount table reader) and which loop devices are bound. */
public final class Mounts {
    private Mounts() {}

    /** True if {@code dir} is a mount point now. */
    public static boolean isMountPoint(Path dir) {
        return MountSource.isMountPoint(dir);
    }

    /** The file a loop device is bound to, or null if it is free (or unknown). */
    static String loopBackingFile(String device) {
        Path sys = Path.of("/sys/block", Path.of(device).getFileName().toString(), "loop", "backing_file");
        try {
            return Files.exists(sys) ? Files.readString(sys).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
