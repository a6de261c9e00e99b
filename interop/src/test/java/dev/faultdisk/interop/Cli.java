package dev.faultdisk.interop;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code faultdisk} subcommands as real processes from the test classpath. */
final class Cli {
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Cli() {
    }

    static List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), "dev.faultdisk.cli.Main"));
        command.addAll(List.of(args));
        return command;
    }

    /** Runs to completion; stdout and stderr captured. */
    static Tools.Result run(String... args) {
        return Tools.run(TIMEOUT, command(args));
    }

    /** Starts without waiting. */
    static Process start(String... args) throws IOException {
        return new ProcessBuilder(command(args)).start();
    }
}
