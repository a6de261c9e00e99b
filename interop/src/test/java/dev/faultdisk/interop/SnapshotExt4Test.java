package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.export.Export;
import dev.faultdisk.export.SnapshotRevert;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real clients across a revert: ext4 on an attached export (nbdfuse, a loop device), files
 * written and synced, a snapshot, more writes (a new file, a changed one, a deleted one),
 * unmount, revert, attach and mount again: exactly the snapshot's files, byte for byte, and
 * e2fsck finds nothing to fix.
 */
class SnapshotExt4Test {
    private static final long SEED = 0x5eed_0012L;

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void aRevertBringsBackExactlyTheSnapshotsFiles(String backend, @TempDir Path dir) throws Exception {
        FuseLoopDisk.requireAll();
        Tools.require("fsfreeze");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("keep", Images.random(SEED, 5000));
        files.put("change", Images.random(SEED + 1, 1 << 20));
        files.put("sub/delete", Images.random(SEED + 2, 3 << 20));
        Path mnt = dir.resolve("mnt");
        try (TestServer server = new TestServer(TestServer.spec("disk", backend, dir, "128M"))) {
            Export export = server.export("disk");
            String uri = server.uri("disk");
            try (FuseLoopDisk disk = FuseLoopDisk.attach(uri, dir, "first")) {
                disk.mkfs();
                disk.mount(mnt, "");
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    Path p = mnt.resolve(f.getKey());
                    Files.createDirectories(p.getParent());
                    Files.write(p, f.getValue());
                }
                // As a guest agent does before a snapshot: frozen, ext4 is on the disk whole and
                // needs no journal recovery, so the snapshot is a clean file system.
                run("fsfreeze", "-f", mnt.toString());
                try {
                    export.createSnapshot("synced");
                } finally {
                    run("fsfreeze", "-u", mnt.toString());
                }

                Files.write(mnt.resolve("later"), Images.random(SEED + 3, 2 << 20));
                Files.write(mnt.resolve("change"), Images.random(SEED + 4, 1 << 20));
                Files.delete(mnt.resolve("sub/delete"));
                run("sync", "-f", mnt.toString());
            } // unmounted and detached

            SnapshotRevert revert = export.revertSnapshot("synced");
            assertTrue(revert.bytesReverted() >= 3 << 20, "the later writes were dropped: " + revert);

            try (FuseLoopDisk disk = FuseLoopDisk.attach(uri, dir, "second")) {
                assertEquals(0, disk.fsck(), "e2fsck -fy had something to fix after the revert");
                disk.mount(mnt, "");
                assertEquals(files.keySet(), filesUnder(mnt), "exactly the snapshot's files");
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    Images.assertSameBytes(f.getValue(), mnt.resolve(f.getKey()), "file " + f.getKey());
                }
            }
        }
    }

    private static void run(String... command) {
        Command.run(Duration.ofSeconds(60), command).assertOk(String.join(" ", command));
    }

    /** Regular files under {@code root}, relative, without ext4's lost+found. */
    private static Set<String> filesUnder(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            Set<String> names = new TreeSet<>();
            walk.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString())
                    .filter(n -> !n.startsWith("lost+found"))
                    .forEach(names::add);
            return names;
        }
    }
}
