package dev.faultdisk.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What a test needs from the machine: programs, root, device nodes. A missing one skips the test
 * with a message saying what is missing; under CI (CI=true or FAULTDISK_REQUIRE_TOOLS=true) it
 * fails instead, because CI installs everything and must run every test.
 */
public final class Tools {
    private Tools() {}

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

    /**
     * Skips (or under CI fails) unless {@code available}: for what a test needs beyond programs,
     * root and paths (a guest image built from the distribution's packages, say); {@code why}
     * says what is missing and how to get it.
     */
    public static void requireThat(boolean available, String why) {
        if (!available) {
            unavailable(why);
        }
    }

    /**
     * Skips visibly if {@code whyNot} says why a facility of the kernel is unavailable (null: it
     * is), under CI too: a kernel setting (io_uring refused by a sysctl or a container's seccomp
     * filter) is not a package .ci/run can install.
     */
    public static void requireKernelSupport(String whyNot) {
        if (whyNot != null) {
            System.err.println("SKIPPED (visible): " + whyNot);
            Assumptions.abort(whyNot);
        }
    }

    private static void unavailable(String why) {
        if (required()) {
            Assertions.fail("required by CI but unavailable: " + why);
        }
        System.err.println("SKIPPED (visible): " + why);
        Assumptions.abort(why);
    }

    /** The program's path on the PATH (or in /usr/sbin, /sbin), or null. */
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
            case "mkfs.ext4", "e2fsck", "debugfs" -> "e2fsprogs";
            case "losetup", "mount", "umount" -> "util-linux mount";
            case "sync" -> "coreutils";
            case "ss" -> "iproute2";
            case "chromedriver" -> "chromium-driver";
            case "promtool" -> "prometheus";
            case "qemu-system-x86_64" -> "qemu-system-x86";
            default -> program;
        };
    }
}
