package dev.faultdisk.cli;

import dev.faultdisk.explore.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Finds and runs the host programs attach and detach need, with errors a user can act on. */
public final class HostTools {
    /** Where each program comes from on Debian and Ubuntu, for the error message. */
    private static final Map<String, String> PACKAGES = Map.of(
            "nbdfuse",
            "libnbd-bin",
            "fusermount3",
            "fuse3",
            "losetup",
            "util-linux",
            "mkfs.ext4",
            "e2fsprogs",
            "mount",
            "mount",
            "umount",
            "mount",
            "setsid",
            "util-linux");

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    /** A failure explained in one sentence, for the command to print. */
    public static final class ToolException extends Exception {
        private static final long serialVersionUID = 1L;

        public ToolException(String message) {
            super(message);
        }
    }

    private HostTools() {}

    /** The program's path on PATH (or, for system programs, in /usr/sbin and /sbin), else null. */
    public static Path find(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program);
            }
        }
        if (!program.equals("nbdfuse")) {
            for (String dir : List.of("/usr/sbin", "/sbin")) {
                if (Files.isExecutable(Path.of(dir, program))) {
                    return Path.of(dir, program);
                }
            }
        }
        return null;
    }

    /** Throws with the package to install unless every program is found. */
    public static void require(String... programs) throws ToolException {
        for (String p : programs) {
            if (find(p) == null) {
                throw new ToolException(p + " is not installed or not on PATH (Debian/Ubuntu: apt-get install "
                        + PACKAGES.getOrDefault(p, p) + ")");
            }
        }
    }

    /** Throws unless this process runs as root (loop devices and mounts need it). */
    public static void requireRoot(String what) throws ToolException {
        if (uid() != 0) {
            throw new ToolException(what + " needs root: losetup and mount need it (run it with sudo)");
        }
    }

    /** The real user id of this process, from the owner of /proc/self; -1 if unknown. */
    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    /**
     * Runs a program to completion and captures its output: in a session of its own, as every host
     * program the project runs ({@link Proc}), within five minutes.
     */
    public static Proc.Result run(String... command) throws ToolException {
        Proc.Result r;
        try {
            r = Proc.run(TIMEOUT, List.of(command));
        } catch (Proc.Failure e) {
            throw new ToolException(e.getMessage());
        }
        if (r.timedOut()) {
            throw new ToolException(
                    String.join(" ", command) + " did not finish within " + TIMEOUT.toMinutes() + " minutes");
        }
        return r;
    }

    /** Runs a program and throws with its own error message if it fails. */
    public static Proc.Result check(String... command) throws ToolException {
        Proc.Result r = run(command);
        if (!r.ok()) {
            throw new ToolException(String.join(" ", command) + " failed (exit " + r.exit() + ")"
                    + (r.message().isEmpty() ? "" : ": " + r.message()));
        }
        return r;
    }
}
