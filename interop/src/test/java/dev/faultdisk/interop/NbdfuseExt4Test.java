package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole stack: nbdfuse exposes the export as a file, a loop device turns it into a block
 * device, ext4 lives on it. Files written, synced and unmounted must come back byte for byte after
 * everything is torn down and attached again, so the second mount reads through the server and not
 * from any cache. Every mount, loop device and FUSE daemon is undone even when the test fails.
 */
class NbdfuseExt4Test {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long SEED = 0x5eed_0004L;

    @ParameterizedTest
    @MethodSource("dev.faultdisk.interop.Backends#all")
    void ext4FilesSurviveUnmountAndReattach(String backend, @TempDir Path dir) throws Exception {
        Tools.requireRoot();
        Tools.requirePath("/dev/fuse");
        Tools.require("nbdfuse", "losetup", "mkfs.ext4", "e2fsck", "mount", "umount", "fusermount3", "sync");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("empty", new byte[0]);
        files.put("one", Images.random(SEED, 1));
        files.put("block", Images.random(SEED + 1, 4096));
        files.put("odd", Images.random(SEED + 2, (1 << 20) + 17));
        files.put("sub/big", Images.random(SEED + 3, 3 << 20));

        try (TestServer server = new TestServer(TestServer.spec("disk", backend, dir, "64M"))) {
            String uri = server.uri("disk");
            Path mnt = Files.createDirectory(dir.resolve("mnt"));

            try (Cleanups cleanups = new Cleanups()) {
                String dev = attach(uri, dir.resolve("fuse1"), cleanups);
                run("mkfs.ext4", "-q", dev);
                mount(dev, mnt, cleanups);
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    Path p = mnt.resolve(f.getKey());
                    Files.createDirectories(p.getParent());
                    Files.write(p, f.getValue());
                }
                run("sync");
            } // unmounts, detaches the loop device, stops nbdfuse

            long written = server.export("disk").stats().bytes(BlockOp.WRITE);
            assertTrue(written >= (4 << 20), "the file system's writes reached the server: " + written + " bytes");

            try (Cleanups cleanups = new Cleanups()) {
                String dev = attach(uri, dir.resolve("fuse2"), cleanups);
                run("e2fsck", "-f", "-n", dev); // consistent after the remount
                mount(dev, mnt, cleanups);
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    Images.assertSameBytes(
                            f.getValue(), mnt.resolve(f.getKey()), "seed " + SEED + ", file " + f.getKey());
                }
            }
        }
    }

    /** Starts nbdfuse on {@code fuseDir} and a loop device on its file; returns the loop device. */
    private static String attach(String uri, Path fuseDir, Cleanups cleanups) throws Exception {
        Files.createDirectory(fuseDir);
        Path log = fuseDir.resolveSibling(fuseDir.getFileName() + ".log");
        Process nbdfuse = new ProcessBuilder("nbdfuse", fuseDir.toString(), uri)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        cleanups.add(() -> stopNbdfuse(nbdfuse, fuseDir, log));
        Path image = awaitImage(nbdfuse, fuseDir, log);
        assertEquals(64L << 20, Files.size(image), "size nbdfuse reports for the export");
        String dev = run("losetup", "-f", "--show", image.toString()).stdout().strip();
        assertTrue(dev.startsWith("/dev/loop"), "losetup printed " + dev);
        cleanups.add(() -> run("losetup", "-d", dev));
        return dev;
    }

    /** Waits until nbdfuse exposes {@code fuseDir/nbd}; fails with nbdfuse's log if it exits first or takes long. */
    private static Path awaitImage(Process nbdfuse, Path fuseDir, Path log) throws IOException {
        Path image = fuseDir.resolve("nbd");
        try {
            await("nbdfuse to expose " + image)
                    .atMost(Duration.ofSeconds(15))
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

    private static void mount(String dev, Path mnt, Cleanups cleanups) {
        run("mount", "-t", "ext4", dev, mnt.toString());
        cleanups.add(() -> {
            CommandResult r = Command.run(TIMEOUT, "umount", mnt.toString());
            if (r.exit() != 0) {
                Command.run(TIMEOUT, "umount", "-l", mnt.toString()); // never leave it behind
                r.assertOk("umount " + mnt);
            }
        });
    }

    private static void stopNbdfuse(Process nbdfuse, Path fuseDir, Path log) throws IOException, InterruptedException {
        CommandResult r = Command.run(TIMEOUT, "fusermount3", "-u", fuseDir.toString());
        if (r.exit() != 0) {
            Command.run(TIMEOUT, "fusermount3", "-u", "-z", fuseDir.toString());
        }
        if (!nbdfuse.waitFor(10, TimeUnit.SECONDS)) {
            nbdfuse.destroyForcibly();
            nbdfuse.waitFor(5, TimeUnit.SECONDS);
            fail("nbdfuse did not exit after fusermount3 -u:\n" + Files.readString(log));
        }
        r.assertOk("fusermount3 -u " + fuseDir);
        assertEquals(0, nbdfuse.exitValue(), () -> "nbdfuse exit status:\n" + readQuietly(log));
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static CommandResult run(String... command) {
        return Command.run(TIMEOUT, command).assertOk(String.join(" ", command));
    }
}
