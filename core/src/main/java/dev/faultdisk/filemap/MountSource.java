package dev.faultdisk.filemap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The block device a mount point's file system lives on, its type, and where the file system
 * starts on the device below it (a loop device's {@code offset}), from /proc/self/mountinfo and
 * /sys.
 *
 * @param mountPoint  the mount point, absolute
 * @param device      the mount's source ({@code /dev/loop3}), as the kernel reports it
 * @param fsType      its file system type ({@code ext4}, {@code xfs}, ...)
 * @param startOffset bytes to add to a FIEMAP physical offset to get the offset in the backing
 *                    file or export (loop offset plus partition start)
 */
public record MountSource(Path mountPoint, String device, String fsType, long startOffset) {

    /** Finds the mount at exactly {@code mountPoint}. */
    public static MountSource of(Path mountPoint) throws IOException {
        Path want = mountPoint.toAbsolutePath().normalize();
        MountSource found = visibleAt(want);
        if (found == null) {
            throw new IOException(want + " is not a mount point");
        }
        return new MountSource(want, found.device, found.fsType, startOf(found.device));
    }

    /** True if {@code dir} is a mount point now (false too when the mount table cannot be read). */
    public static boolean isMountPoint(Path dir) {
        try {
            return visibleAt(dir.toAbsolutePath().normalize()) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /** The visible mount at {@code want} (without its start offset), or null if nothing is mounted there. */
    private static MountSource visibleAt(Path want) throws IOException {
        String wanted = want.toString();
        MountSource found = null;
        List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        for (String line : lines) {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            String[] f = line.split(" ");
            int dash = java.util.Arrays.asList(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            if (unescape(f[4]).equals(wanted)) {
                // the last mount at a place is the visible one
                found = new MountSource(want, unescape(f[dash + 2]), f[dash + 1], 0);
            }
        }
        return found;
    }

    /** Loop offset plus partition start of a device under /dev, 0 when there is neither. */
    private static long startOf(String device) {
        if (!device.startsWith("/dev/")) {
            return 0;
        }
        String name = device.substring("/dev/".length());
        long start = 0;
        Path part = Path.of("/sys/class/block", name, "start");
        Path loop = Path.of("/sys/class/block", name, "loop", "offset");
        try {
            if (Files.exists(part)) {
                start += Long.parseLong(Files.readString(part).strip()) * 512;
                Path parent = Path.of("/sys/class/block", name).toRealPath().getParent();
                loop = parent.resolve("loop").resolve("offset");
            }
            if (Files.exists(loop)) {
                start += Long.parseLong(Files.readString(loop).strip());
            }
        } catch (IOException | NumberFormatException e) {
            return start;
        }
        return start;
    }

    /** /proc escapes space, tab, newline and backslash as octal. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException ignored) {
                    // not an escape
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
