package dev.faultdisk.testkit;

import org.junit.jupiter.api.Assertions;

/** How a finished program ended and what it printed. */
public record CommandResult(int exit, String stdout, String stderr) {
    /** Fails the test, with both streams, unless the program exited 0. */
    public CommandResult assertOk(String what) {
        Assertions.assertEquals(
                0, exit, () -> what + " failed (exit " + exit + ")\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
        return this;
    }
}
