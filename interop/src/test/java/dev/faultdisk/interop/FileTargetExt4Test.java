package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.FileMapInfo;
import dev.faultdisk.client.FileOwner;
import dev.faultdisk.client.Trigger;
import dev.faultdisk.client.TriggerAction;
import dev.faultdisk.client.TriggerCondition;
import dev.faultdisk.explore.LoopDevice;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File targeting is exact: a read-error rule aimed at one file of a populated ext4 tree fails
 * reads of that file and of no other. Every file of the tree is read back cold (unmounted,
 * caches dropped, mounted again); the victim fails with EIO, every other file comes back byte for
 * byte, and the fault's event names the victim and the offset in it.
 */
@Faultdisk(exports = "disk=memory:96M")
class FileTargetExt4Test {
    private static final long SEED = 0x5eed_f11e_7a9eL;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void aReadErrorOnOneFileFailsThatFileAndNoOther(
            FaultdiskClient fd, @ExportUri("disk") String uri, @TempDir Path dir) throws Exception {
        FuseLoopDisk.requireAll();
        Tools.require("sync");
        Path mnt = dir.resolve("mnt");
        try (FuseLoopDisk disk = FuseLoopDisk.attach(uri, dir, "disk", LoopDevice.Option.NO_READ_AHEAD)) {
            disk.mkfs4k();
            disk.mount(mnt, "");
            Map<String, byte[]> tree = populate(mnt);
            run("sync");
            String victim = "d3/e1/file-18";
            assertTrue(tree.containsKey(victim));

            remountCold(disk, mnt);
            FileMapInfo info = fd.fileMapAttach("disk", mnt.toString());
            assertEquals("ext4", info.fsType());
            assertTrue(info.files() >= tree.size(), "every file mapped: " + info);
            List<Long> ids =
                    fd.faultAdd("disk", FaultRule.error("EIO").ops(BlockOp.READ).file(victim));
            assertEquals(1, ids.size());

            for (Map.Entry<String, byte[]> f : tree.entrySet()) {
                Path p = mnt.resolve(f.getKey());
                if (f.getKey().equals(victim)) {
                    try {
                        Files.readAllBytes(p);
                        fail("reading the victim " + victim + " should fail");
                    } catch (IOException expected) {
                        // EIO from the kernel
                    }
                } else {
                    try {
                        Images.assertSameBytes(f.getValue(), p, "file " + f.getKey() + " (not the victim)");
                    } catch (IOException e) {
                        fail("reading " + f.getKey() + " (not the victim) failed: " + e + "; faults: "
                                + fd.queryFaultJournal("disk", 0, 10));
                    }
                }
            }
            try (Stream<Path> all = Files.walk(mnt)) {
                assertTrue(all.count() > tree.size(), "directories list");
            }
            Event e = fd.awaitEvent("FAULT_INJECTED", TIMEOUT);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> files =
                    (List<Map<String, Object>>) e.data().get("files");
            assertFalse(files == null || files.isEmpty(), "the event names the file: " + e.data());
            assertEquals(mnt.resolve(victim).toString(), files.get(0).get("name"));
            assertEquals("file", files.get(0).get("kind"));

            // and the reverse map agrees, for every block the fault fired on
            long offset = ((Number) e.data().get("offset")).longValue();
            List<FileOwner> owners = fd.fileOwners("disk", offset, 4096);
            assertTrue(
                    owners.stream()
                            .anyMatch(o -> o.name().equals(mnt.resolve(victim).toString())),
                    owners.toString());

            // a trigger aimed at another file fires on its first read, not before
            fd.faultClear("disk");
            String other = "d1/file-6";
            fd.triggerAdd(
                    Trigger.when(TriggerCondition.requests("disk", BlockOp.READ).file(other))
                            .name("other-read")
                            .then(TriggerAction.fail("EIO")));
            remountCold(disk, mnt);
            Images.assertSameBytes(tree.get(victim), mnt.resolve(victim), "the victim reads once the rule is gone");
            assertEquals(0, fd.queryTriggers().getFirst().fired(), "reading another file does not fire the trigger");
            try {
                Files.readAllBytes(mnt.resolve(other));
            } catch (IOException failedOnce) {
                // the kernel may retry a failed read page by page: one failure can be masked
            }
            assertEquals(1, fd.queryTriggers().getFirst().fired(), "the first read of " + other + " fires it");
        }
    }

    /** A recorded history read per file names the files written and the journal, with flushed changes. */
    @Test
    void aHistoryReadsPerFile(FaultdiskClient fd, @ExportUri("disk") String uri, @TempDir Path dir) throws Exception {
        FuseLoopDisk.requireAll();
        Path mnt = dir.resolve("mnt");
        Path history = dir.resolve("disk.history");
        try (FuseLoopDisk disk = FuseLoopDisk.attach(uri, dir, "disk")) {
            disk.mkfs4k();
            disk.mount(mnt, "");
            fd.historyStart("disk", history.toString(), null);
            byte[] a = Images.random(SEED, 200_000);
            Files.write(mnt.resolve("a"), a);
            Files.createDirectories(mnt.resolve("sub"));
            Files.write(mnt.resolve("sub/b"), Images.random(SEED + 1, 5000));
            run("sync");
            fd.historyStop("disk");
            try (dev.faultdisk.wire.history.HistoryReader r = dev.faultdisk.wire.history.HistoryReader.open(history)) {
                Map<String, dev.faultdisk.filemap.HistoryByFile.Activity> by = new TreeMap<>();
                for (var x :
                        dev.faultdisk.filemap.HistoryByFile.of(r.entries(), dev.faultdisk.filemap.FileMap.scan(mnt))) {
                    by.put(x.name(), x);
                }
                var fileA = by.get(mnt.resolve("a").toString());
                assertTrue(fileA != null && fileA.bytes() >= a.length, "a's writes: " + by.keySet());
                assertTrue(fileA.durable() > 0, "sync flushed a's writes: " + fileA);
                assertTrue(
                        by.containsKey(mnt.resolve("sub/b").toString()),
                        by.keySet().toString());
                assertTrue(by.containsKey("ext4 journal"), "the journal's writes are named: " + by.keySet());
            }
        }
    }

    /** Unmounts, drops the kernel's caches and mounts again, so every read reaches the server. */
    private static void remountCold(FuseLoopDisk disk, Path mnt) throws IOException {
        run("umount", mnt.toString());
        run("sh", "-c", "echo 3 > /proc/sys/vm/drop_caches");
        disk.mount(mnt, "");
    }

    /** 48 files of seeded sizes (0 to 300 KiB) in a tree three levels deep. */
    private static Map<String, byte[]> populate(Path mnt) throws IOException {
        Map<String, byte[]> tree = new TreeMap<>();
        java.util.Random sizes = new java.util.Random(SEED);
        List<String> dirs = new ArrayList<>(List.of("", "d1", "d2", "d3/e1", "d3/e2/f1"));
        for (int i = 0; i < 48; i++) {
            String d = dirs.get(i % dirs.size());
            String name = (d.isEmpty() ? "" : d + "/") + "file-" + i;
            tree.put(name, Images.random(SEED + i, i == 5 ? 0 : sizes.nextInt(300 << 10) + 1));
        }
        for (Map.Entry<String, byte[]> f : tree.entrySet()) {
            Path p = mnt.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        return tree;
    }

    private static void run(String... command) {
        Command.run(TIMEOUT, command).assertOk(String.join(" ", command));
    }
}
