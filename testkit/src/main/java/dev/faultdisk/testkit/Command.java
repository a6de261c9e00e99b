package dev.faultdisk.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;

/** Runs a program to completion with a bound, capturing both streams; a run past the bound fails the test. */
public final class Command {
    private Command() {}

    /** Runs {@code command} (killed, and the test failed, after {@code timeout}). */
    public static CommandResult run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    /** Runs {@code command} (killed, and the test failed, after {@code timeout}). */
    public static CommandResult run(Duration timeout, List<String> command) {
        try {
            // Files, not pipes: a chatty program never blocks on a full pipe nobody reads yet.
            Path out = Files.createTempFile("fd-out", ".txt");
            Path err = Files.createTempFile("fd-err", ".txt");
            try {
                Process p = new ProcessBuilder(command)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    Assertions.fail("timed out after " + timeout + ": " + String.join(" ", command) + "\nstdout:\n"
                            + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
                }
                return new CommandResult(
                        p.exitValue(),
                        Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
