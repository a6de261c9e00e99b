package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;

/**
 * An export attached as a real block device: nbdfuse exposes it as a file, a loop device sits on
 * that file, ext4 may be mounted on top. {@link #close} takes it all down even after the disk
 * has lost its power (writes then fail, so umount may fail: it falls back to a lazy unmount, and
 * fusermount3 to a lazy one) and never leaves a mount, loop device or FUSE daemon behind.
 */
final class FuseLoopDisk implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Path fuseDir;
    private final Path log;
    private final Process nbdfuse;
    private String loop;
    private Path mounted;

    private FuseLoopDisk(Path fuseDir, Path log, Process nbdfuse) {
        this.fuseDir = fuseDir;
        this.log = log;
        this.nbdfuse = nbdfuse;
    }

    /** Skips (or, under CI, fails) unless root, /dev/fuse, loop devices and every tool are there. */
    static void requireAll() {
        Tools.requireRoot();
        Tools.requirePath("/dev/fuse");
        Tools.requirePath("/dev/loop-control");
        Tools.require("nbdfuse", "losetup", "mkfs.ext4", "e2fsck", "mount", "umount", "fusermount3");
    }

    /**
     * Waits until nbdfuse exposes its file {@code fuseDir/nbd} and returns it; fails with nbdfuse's
     * log if it exits first or takes longer than {@code timeout}.
     */
    static Path awaitImage(Process nbdfuse, Path fuseDir, Path log, Duration timeout) throws IOException {
        Path image = fuseDir.resolve("nbd");
        try {
            await("nbdfuse to expose " + image)
                    .atMost(timeout)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> {
                        if (!nbdfuse.isAlive()) {
                            fail("nbdfuse exited with " + nbdfuse.exitValue() + ":\n" + Files.readString(log));
                        }
                        return Files.exists(image);
                    });
        } catch (ConditionTimeoutException e) {
            fail(e.getMessage() + "; nbdfuse's log:\n" + Files.readString(log), e);
        }
        return image;
    }

    /** Starts nbdfuse on a fresh directory under {@code work} and a loop device on its file. */
    static FuseLoopDisk attach(String uri, Path work, String name) throws IOException, InterruptedException {
        return attach(uri, work, name, true);
    }

    /**
     * As {@link #attach(String, Path, String)}; with {@code readAhead} false, read-ahead is off
     * below the file system (the FUSE file's, set before the loop device opens it, and the loop
     * device's), which would otherwise read neighbouring blocks, those of other files, in the same
     * request: then each request the server sees holds blocks of the file being read only.
     */
    static FuseLoopDisk attach(String uri, Path work, String name, boolean readAhead)
            throws IOException, InterruptedException {
        Path fuseDir = Files.createDirectories(work.resolve(name + "-fuse"));
        Path log = work.resolve(name + "-nbdfuse.log");
        Process p = new ProcessBuilder("nbdfuse", fuseDir.toString(), uri)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        FuseLoopDisk disk = new FuseLoopDisk(fuseDir, log, p);
        try {
            Path image = awaitImage(p, fuseDir, log, Duration.ofSeconds(20));
            if (!readAhead) {
                String bdi =
                        run("mountpoint", "-d", fuseDir.toString()).stdout().strip();
                Files.writeString(Path.of("/sys/class/bdi", bdi, "read_ahead_kb"), "0");
            }
            String dev =
                    run("losetup", "-f", "--show", image.toString()).stdout().strip();
            assertTrue(dev.startsWith("/dev/loop"), "losetup printed " + dev);
            disk.loop = dev;
            if (!readAhead) {
                run("blockdev", "--setra", "0", dev);
            }
            return disk;
        } catch (IOException | RuntimeException | Error e) {
            disk.closeQuietly(e);
            throw e;
        }
    }

    String device() {
        return loop;
    }

    /** mkfs.ext4 with everything initialised up front, so no background writes follow the mount. */
    void mkfs() {
        run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", loop);
    }

    /** As {@link #mkfs()} with 4 KiB blocks, the page size: no page holds blocks of two files. */
    void mkfs4k() {
        run("mkfs.ext4", "-q", "-F", "-b", "4096", "-E", "lazy_itable_init=0,lazy_journal_init=0", loop);
    }

    /** Runs e2fsck -fy and returns its exit status (0: clean, 1: fixed, others: see e2fsck(8)). */
    int fsck() {
        return Command.run(TIMEOUT, "e2fsck", "-f", "-y", loop).exit();
    }

    /** Mounts ext4 at {@code mnt} with {@code options} (empty for the defaults). */
    void mount(Path mnt, String options) throws IOException {
        Files.createDirectories(mnt);
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", "ext4"));
        if (!options.isEmpty()) {
            cmd.addAll(List.of("-o", options));
        }
        cmd.addAll(List.of(loop, mnt.toString()));
        Command.run(TIMEOUT, cmd).assertOk(String.join(" ", cmd));
        mounted = mnt;
    }

    @Override
    public void close() throws IOException {
        try {
            takeDown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while detaching", e);
        }
    }

    private void takeDown() throws IOException, InterruptedException {
        List<String> problems = new ArrayList<>();
        if (mounted != null) {
            CommandResult r = Command.run(TIMEOUT, "umount", mounted.toString());
            if (r.exit() != 0) {
                CommandResult lazy = Command.run(TIMEOUT, "umount", "-l", mounted.toString());
                if (lazy.exit() != 0) {
                    problems.add("umount -l " + mounted + ": " + lazy.stderr());
                }
            }
            mounted = null;
        }
        if (loop != null) {
            String device = loop;
            AtomicReference<CommandResult> r = new AtomicReference<>();
            try { // a lazily unmounted file system lets go of the device a little later
                await().atMost(Duration.ofSeconds(5))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> {
                            r.set(Command.run(TIMEOUT, "losetup", "-d", device));
                            return r.get().exit() == 0 || !isAttached(device);
                        });
            } catch (ConditionTimeoutException e) {
                // still attached: reported below with losetup's last words
            }
            if (isAttached(loop)) {
                problems.add("losetup -d " + loop + ": " + r.get().stderr());
            }
            loop = null;
        }
        CommandResult r = Command.run(TIMEOUT, "fusermount3", "-u", fuseDir.toString());
        if (r.exit() != 0) {
            Command.run(TIMEOUT, "fusermount3", "-u", "-z", fuseDir.toString());
        }
        if (!nbdfuse.waitFor(15, TimeUnit.SECONDS)) {
            nbdfuse.destroyForcibly();
            nbdfuse.waitFor(5, TimeUnit.SECONDS);
            problems.add("nbdfuse did not exit after fusermount3 -u:\n" + Files.readString(log));
        }
        if (!problems.isEmpty()) {
            throw new IOException("detaching left problems: " + problems);
        }
    }

    private void closeQuietly(Throwable cause) {
        try {
            close();
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    /** True while the loop device is bound to a file (sysfs shows its backing file). */
    private static boolean isAttached(String dev) {
        return Files.exists(Path.of("/sys/block", Path.of(dev).getFileName().toString(), "loop", "backing_file"));
    }

    private static CommandResult run(String... command) {
        return Command.run(TIMEOUT, command).assertOk(String.join(" ", command));
    }
}
