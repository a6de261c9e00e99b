package dev.faultdisk.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the kernel says is mounted and which loop devices are bound, from /proc and /sys. */
public final class Mounts {
    private Mounts() {}

    /** True if {@code dir} is a mount point now. */
    public static boolean isMountPoint(Path dir) {
        String wanted = dir.toAbsolutePath().normalize().toString();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/mounts"));
            for (String line : lines) {
                String[] f = line.split(" ");
                if (f.length > 1 && unescape(f[1]).equals(wanted)) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
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

    /** /proc/mounts escapes space, tab, newline and backslash as octal. */
    private static String unescape(String s) {
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
