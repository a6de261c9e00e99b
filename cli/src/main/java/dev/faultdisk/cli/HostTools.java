package dev.faultdisk.cli;

import dev.faultdisk.explore.HostPrograms;
import dev.faultdisk.explore.Proc;
import java.time.Duration;
import java.util.List;

/** Finds and runs the host programs attach and detach need, with errors a user can act on. */
public final class HostTools {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    /** A failure explained in one sentence, for the command to print. */
    public static final class ToolException extends Exception {
        private static final long serialVersionUID = 1L;

        public ToolException(String message) {
            super(message);
        }
    }

    private HostTools() {}

    /** Throws with the package to install unless every program is found. */
    public static void require(String... programs) throws ToolException {
        String missing = HostPrograms.missing(List.of(programs));
        if (missing != null) {
            throw new ToolException(missing);
        }
    }

    /** Throws unless this process runs as root (loop devices and mounts need it). */
    public static void requireRoot(String what) throws ToolException {
        if (HostPrograms.uid() != 0) {
            throw new ToolException(what + " needs root: losetup and mount need it (run it with sudo)");
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
