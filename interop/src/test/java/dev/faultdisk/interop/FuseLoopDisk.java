package dev.faultdisk.interop;

import dev.faultdisk.explore.LoopDevice;
import dev.faultdisk.explore.LoopDisk;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An export attached as a real block device for a test ({@link LoopDisk}: nbdfuse, a loop device,
 * ext4 on top), with the ext4 steps tests take. {@link #close} takes it all down even after the
 * disk has lost its power, and fails if anything stays behind.
 */
final class FuseLoopDisk implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final LoopDisk disk;

    private FuseLoopDisk(LoopDisk disk) {
        this.disk = disk;
    }

    /** Skips (or, under CI, fails) unless root, /dev/fuse, loop devices and every tool are there. */
    static void requireAll() {
        Tools.requireRoot();
        Tools.requirePath("/dev/fuse");
        Tools.requirePath("/dev/loop-control");
        Tools.require("nbdfuse", "losetup", "mkfs.ext4", "e2fsck", "mount", "umount", "fusermount3");
    }

    /** Starts nbdfuse on a fresh directory under {@code work} and a loop device on its file. */
    static FuseLoopDisk attach(String uri, Path work, String name, LoopDevice.Option... options) throws IOException {
        return new FuseLoopDisk(
                LoopDisk.attach(uri, work.resolve(name + "-fuse"), work.resolve(name + "-nbdfuse.log"), options));
    }

    String device() {
        return disk.device();
    }

    /** mkfs.ext4 with everything initialised up front, so no background writes follow the mount. */
    void mkfs() {
        run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", device());
    }

    /** As {@link #mkfs()} with 4 KiB blocks, the page size: no page holds blocks of two files. */
    void mkfs4k() {
        run("mkfs.ext4", "-q", "-F", "-b", "4096", "-E", "lazy_itable_init=0,lazy_journal_init=0", device());
    }

    /** Runs e2fsck -fy and returns its exit status (0: clean, 1: fixed, others: see e2fsck(8)). */
    int fsck() {
        return Command.run(TIMEOUT, "e2fsck", "-f", "-y", device()).exit();
    }

    /** Mounts ext4 at {@code mnt} with {@code options} (empty for the defaults). */
    void mount(Path mnt, String options) throws IOException {
        disk.mount(mnt, "ext4", options);
    }

    @Override
    public void close() throws IOException {
        disk.close();
    }

    private static void run(String... command) {
        Command.run(TIMEOUT, command).assertOk(String.join(" ", command));
    }
}
