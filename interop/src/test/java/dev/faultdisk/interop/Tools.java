package dev.faultdisk.interop;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs external tools for interop tests. A missing tool, root or /dev/fuse skips the test with a
 * message saying what is missing; under CI (CI=true or FAULTDISK_REQUIRE_TOOLS=true) it fails
 * instead, because CI installs everything and must run every test.
 */
public final class Tools {
    private Tools() {
    }

    /** True where every tool must be present (CI). */
    public static boolean required() {
        return "true".equalsIgnoreCase(System.getenv("CI"))
                || "true".equalsIgnoreCase(System.getenv("FAULTDISK_REQUIRE_TOOLS"));
    }

    /** Skips (or under CI fails) unless every named program is on the PATH. */
    public static void require(String... programs) {
        for (String program : programs) {
            if (which(program) == null) {
                unavailable(program + " is not installed (Debian: apt-get install " + debianPackage(program) + ")");
            }
        }
    }

    /** Skips (or under CI fails) unless running as root. */
    public static void requireRoot() {
        if (!"root".equals(System.getProperty("user.name"))) {
            unavailable("this test needs root");
        }
    }

    /** Skips (or under CI fails) unless the path exists. */
    public static void requirePath(String path) {
        if (!Files.exists(Path.of(path))) {
            unavailable(path + " does not exist");
        }
    }

    private static void unavailable(String why) {
        if (required()) {
            Assertions.fail("required by CI but unavailable: " + why);
        }
        System.err.println("SKIPPED (visible): " + why);
        Assumptions.abort(why);
    }

    public static Path which(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        for (String dir : List.of("/usr/sbin", "/sbin")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static String debianPackage(String program) {
        return switch (program) {
            case "qemu-io", "qemu-img", "qemu-nbd" -> "qemu-utils";
            case "nbdinfo", "nbdcopy", "nbdfuse" -> "libnbd-bin";
            case "fusermount3" -> "fuse3";
            case "mkfs.ext4", "e2fsck" -> "e2fsprogs";
            case "losetup", "mount", "umount" -> "util-linux mount";
            case "sync" -> "coreutils";
            default -> program;
        };
    }

    /** The result of a finished process. */
    public record Result(int exit, String stdout, String stderr) {
        public Result assertOk(String what) {
            Assertions.assertEquals(0, exit, () -> what + " failed (exit " + exit + ")\nstdout:\n" + stdout
                    + "\nstderr:\n" + stderr);
            return this;
        }
    }

    /** Runs a command to completion (killed after {@code timeout}), capturing both streams. */
    public static Result run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    public static Result run(Duration timeout, List<String> command) {
        try {
            Path out = Files.createTempFile("fd-out", ".txt");
            Path err = Files.createTempFile("fd-err", ".txt");
            try {
                Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    Assertions.fail("timed out after " + timeout + ": " + String.join(" ", command)
                            + "\nstdout:\n" + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
