package dev.faultdisk.explore;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Mounts of a block device in other processes' mount namespaces (see {@link FileSystemMount}): found in
 * {@code /proc/PID/mountinfo} by the device's number, unmounted with {@code nsenter -m umount -l}.
 */
final class ForeignMounts {
    private static final Duration STEP = Duration.ofSeconds(10);

    private ForeignMounts() {}

    /**
     * Unmounts every mount of block device {@code name} (e.g. loop3) in another mount namespace;
     * returns them as "PID:MOUNTPOINT" (one per namespace and mount point).
     */
    static List<String> release(String name) throws Proc.Failure {
        String devno;
        try {
            devno = Files.readString(Path.of("/sys/block", name, "dev")).strip();
        } catch (IOException e) {
            return List.of();
        }
        String own = namespace("self");
        Set<String> seen = new HashSet<>();
        List<String> released = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                String ns = namespace(proc.getFileName().toString());
                if (ns == null || ns.equals(own) || !seen.add(ns)) {
                    continue;
                }
                for (String mountPoint : mountsOf(proc.resolve("mountinfo"), devno)) {
                    released.add(proc.getFileName() + ":" + mountPoint);
                }
            }
        } catch (IOException e) {
            throw new Proc.Failure("cannot list /proc: " + e.getMessage());
        }
        for (String r : released) {
            int colon = r.indexOf(':');
            Proc.run(
                    STEP,
                    List.of("nsenter", "-t", r.substring(0, colon), "-m", "umount", "-l", r.substring(colon + 1)));
        }
        return released;
    }

    /** The mount points in {@code mountinfo} of the device numbered {@code devno} ("MAJOR:MINOR"). */
    static List<String> mountsOf(Path mountinfo, String devno) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(mountinfo)) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[2].equals(devno)) {
                    out.add(unescape(f[4]));
                }
            }
        } catch (IOException e) {
            // the process went away
        }
        return out;
    }

    private static String namespace(String pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", pid, "ns", "mnt")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String s) {
        return s.replace("\\040", " ")
                .replace("\\011", "\t")
                .replace("\\012", "\n")
                .replace("\\134", "\\");
    }
}
