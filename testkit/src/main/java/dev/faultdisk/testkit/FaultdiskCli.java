package dev.faultdisk.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code faultdisk} subcommands as real processes, from the test's own classpath (the test
 * module must have the cli module on it), so tests see exactly what a shell user sees.
 */
public final class FaultdiskCli {
    /** The bound on one run. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private FaultdiskCli() {}

    /** The command line that runs {@code faultdisk ARGS...}. */
    public static List<String> command(String... args) {
        return command(List.of(), args);
    }

    /** The same with JVM options of the test's own (e.g. a small heap) before the launcher's. */
    public static List<String> command(List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:+ExitOnOutOfMemoryError", // as the launcher runs it
                "-XX:TieredStopAtLevel=1",
                "-Xshare:auto"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.faultdisk.cli.Main"));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * {@link #command(String...)} with SIGINT at its default, as from a terminal: a test that sends
     * Ctrl-C reaches the process even when the suite runs as a background job, which starts with
     * SIGINT ignored and passes that on.
     */
    public static List<String> interruptible(String... args) {
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT"));
        command.addAll(command(args));
        return command;
    }

    /** Runs to completion; stdout and stderr captured. */
    public static CommandResult run(String... args) {
        return Command.run(TIMEOUT, command(args));
    }

    /** Starts without waiting. */
    public static Process start(String... args) throws IOException {
        return new ProcessBuilder(command(args)).start();
    }

    /** Starts without waiting, in the working directory {@code dir} (where relative paths and defaults land). */
    public static Process startIn(Path dir, String... args) throws IOException {
        return new ProcessBuilder(command(args)).directory(dir.toFile()).start();
    }
}
