package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.explore.FileSystemMount;
import dev.faultdisk.explore.LoopDevice;
import dev.faultdisk.explore.Proc;
import dev.faultdisk.filemap.MountSource;
import dev.faultdisk.testkit.Tools;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount every disk-mounting command shares (explore, campaigns, attach, detach), on a real
 * ext4 file system on a loop device: a busy file system is unmounted lazily and says so, and the
 * next mount of the device waits for that instance to end instead of taking it over with what it
 * cached.
 */
class FileSystemMountTest {

    @Test
    void aBusyFileSystemGoesLazilyAndTheNextMountWaitsForItsEnd(@TempDir Path dir) throws Exception {
        Tools.requireRoot();
        Tools.require("mkfs.ext4", "mount", "umount", "losetup");
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(32L << 20);
        }
        Proc.check(Duration.ofSeconds(60), "mkfs.ext4", "-q", "-F", image.toString());
        LoopDevice loop = LoopDevice.bind(image, Set.of());
        Path mnt = dir.resolve("mnt");
        Process holder = null;
        try {
            FileSystemMount m = FileSystemMount.mount(loop.device(), mnt, "ext4", "");
            Files.writeString(mnt.resolve("old"), "cached");
            holder = new ProcessBuilder("sleep", "600")
                    .directory(mnt.toFile()) // its working directory keeps the file system busy
                    .start();

            Optional<String> lazy = m.unmount();

            assertTrue(lazy.orElse("").startsWith("lazy unmount of " + mnt), "the note: " + lazy);
            assertFalse(MountSource.isMountPoint(mnt));
            assertTrue(
                    Files.exists(Path.of(
                            "/sys/fs/ext4", Path.of(loop.device()).getFileName().toString())),
                    "the lazily unmounted instance lives on while it is busy");

            Process h = holder;
            Thread.ofVirtual().start(() -> {
                sleepQuietly(500);
                h.destroy();
            });
            FileSystemMount again = FileSystemMount.mount(loop.device(), mnt, "ext4", "");
            try {
                assertFalse(holder.isAlive(), "the mount waited for the old instance to end");
                assertEquals("cached", Files.readString(mnt.resolve("old"))); // written back on the way out
            } finally {
                assertEquals(Optional.empty(), again.unmount());
            }
        } finally {
            if (holder != null) {
                holder.destroyForcibly().waitFor();
            }
            FileSystemMount.clear(mnt);
            loop.detach();
        }
    }

    @Test
    void aFailedMountSaysWhyAndLeavesNothingMounted(@TempDir Path dir) throws Exception {
        Tools.requireRoot();
        Tools.require("mount", "losetup");
        Path image = dir.resolve("blank.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(8L << 20);
        }
        LoopDevice loop = LoopDevice.bind(image, Set.of());
        Path mnt = dir.resolve("mnt");
        try {
            FileSystemMount.Attempt a = FileSystemMount.attempt(loop.device(), mnt, "ext4", "", Duration.ofSeconds(30));

            assertEquals(Optional.empty(), a.mount());
            assertFalse(a.result().ok());
            assertFalse(a.result().message().isBlank(), "mount says why");
            assertFalse(MountSource.isMountPoint(mnt));
        } finally {
            loop.detach();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
