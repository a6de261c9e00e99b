package dev.faultdisk.explore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The host programs faultdisk runs to attach, mount and check exports: where one is, and, for one
 * that is missing, the Debian package that brings it. {@code faultdisk explore}, {@code attach},
 * {@code detach} and campaigns all ask here, so that they find and name programs alike.
 */
public final class HostPrograms {
    /** Where each program comes from on Debian and Ubuntu. */
    private static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("nbdfuse", "libnbd-bin"),
            Map.entry("fusermount3", "fuse3"),
            Map.entry("mkfs.ext4", "e2fsprogs"),
            Map.entry("e2fsck", "e2fsprogs"),
            Map.entry("mkfs.xfs", "xfsprogs"),
            Map.entry("xfs_repair", "xfsprogs"),
            Map.entry("mount", "mount"),
            Map.entry("umount", "mount"),
            Map.entry("losetup", "util-linux"),
            Map.entry("blockdev", "util-linux"),
            Map.entry("fsfreeze", "util-linux"),
            Map.entry("setsid", "util-linux"),
            Map.entry("nsenter", "util-linux"),
            Map.entry("mountpoint", "util-linux"),
            Map.entry("ip", "iproute2"),
            Map.entry("sh", "dash"));

    private HostPrograms() {}

    /**
     * The program's path on PATH or, for programs a system keeps for root, in /usr/sbin and /sbin
     * (often not on a user's PATH, and sudo may not add them); null if none.
     */
    public static Path find(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program);
            }
        }
        for (String dir : List.of("/usr/sbin", "/sbin")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program);
            }
        }
        return null;
    }

    /** What to tell the user about the first program not found, with its package; null if all are there. */
    public static String missing(List<String> programs) {
        for (String p : programs) {
            if (find(p) == null) {
                return p + " is not installed or not on PATH (Debian/Ubuntu: apt-get install "
                        + PACKAGES.getOrDefault(p, p) + ")";
            }
        }
        return null;
    }

    /** The real user id of this process, from the owner of /proc/self; -1 if unknown. */
    public static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }
}
