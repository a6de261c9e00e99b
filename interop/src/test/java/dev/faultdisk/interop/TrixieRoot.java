package dev.faultdisk.interop;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Debian 13's NBD clients and servers, newer than this machine's: libnbd 1.22, QEMU 10 and
 * nbdkit 1.42, in a root file system scripts/trixie/build.sh makes with debootstrap (cached in
 * target/trixie). They speak NBD's extended headers, which Debian 12's do not. Programs run in it
 * with chroot, so tests need root; they reach servers through Unix sockets in a directory under
 * the root's /tmp ({@link #scratch}), or over loopback TCP (the network is the host's).
 */
final class TrixieRoot {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final Path DIR = REPO.resolve("target/trixie");

    /** build.sh's result, asked once per JVM. */
    private static CommandResult built;

    private TrixieRoot() {}

    /** Makes the root once; skips, or under CI fails, when it cannot (no root, no debootstrap, no mirror). */
    static synchronized void require() {
        Tools.requireRoot();
        Tools.require("chroot", "debootstrap");
        if (built == null) {
            built = Command.run(
                    Duration.ofMinutes(10),
                    REPO.resolve("scripts/trixie/build.sh").toString(),
                    DIR.toString());
        }
        Tools.requireThat(
                built.exit() == 0,
                "scripts/trixie/build.sh could not make Debian 13's root (debootstrap from Debian's mirror): "
                        + built.stderr().strip());
    }

    /** A fresh directory under the root's /tmp, as the host sees it; {@link #inside} names it for programs in the root. */
    static Path scratch() throws IOException {
        Path tmp = DIR.resolve("tmp");
        Files.createDirectories(tmp);
        return Files.createTempDirectory(tmp, "faultdisk-");
    }

    /** A host path under the root as programs in the root see it. */
    static String inside(Path hostPath) {
        Path relative = DIR.relativize(hostPath.toAbsolutePath().normalize());
        if (relative.startsWith("..")) {
            throw new IllegalArgumentException(hostPath + " is not under " + DIR);
        }
        return "/" + relative;
    }

    /** The command line that runs {@code argv} in the root. */
    static List<String> command(String... argv) {
        List<String> command = new ArrayList<>(List.of("chroot", DIR.toString()));
        command.addAll(List.of(argv));
        return command;
    }

    /** Runs {@code argv} in the root. */
    static CommandResult run(Duration timeout, String... argv) {
        return Command.run(timeout, command(argv));
    }
}
