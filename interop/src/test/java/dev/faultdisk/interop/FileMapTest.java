package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.filemap.Extent;
import dev.faultdisk.filemap.FileMap;
import dev.faultdisk.filemap.Owner;
import dev.faultdisk.filemap.Structure;
import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.Images;
import dev.faultdisk.testkit.Tools;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file map against the truth: a real file system on a loop device over an image file. Every
 * extent FIEMAP gives must hold the file's bytes in the image, agree with {@code filefrag -e},
 * and map back to the same file and offset; structures the tools name must map back as such.
 */
class FileMapTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long SEED = 0x5eed_f11eL;

    @Test
    void ext4ExtentsHoldTheFilesBytesAndMapBack(@TempDir Path dir) throws Exception {
        Tools.requireRoot();
        Tools.requirePath("/dev/loop-control");
        Tools.require("losetup", "mkfs.ext4", "mount", "umount", "filefrag", "dumpe2fs", "debugfs");
        check(dir, "ext4", List.of("mkfs.ext4", "-q", "-F", "-b", "4096"), "ext4 journal", "ext4 inode table");
    }

    @Test
    void xfsExtentsHoldTheFilesBytesAndMapBack(@TempDir Path dir) throws Exception {
        Tools.requireRoot();
        Tools.requirePath("/dev/loop-control");
        Tools.require("losetup", "mkfs.xfs", "mount", "umount", "filefrag", "xfs_db");
        check(dir, "xfs", List.of("mkfs.xfs", "-q", "-f"), "xfs log", "xfs superblock");
    }

    private static void check(Path dir, String fs, List<String> mkfs, String... structures) throws Exception {
        Path image = dir.resolve("fs.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(320L << 20);
        }
        List<String> mk = new ArrayList<>(mkfs);
        mk.add(image.toString());
        run(mk.toArray(String[]::new));
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        String loop = run("losetup", "-f", "--show", image.toString()).strip();
        try {
            run("mount", "-t", fs, loop, mnt.toString());
            try {
                Map<String, byte[]> files = populate(mnt);
                run("sync");
                FileMap map = FileMap.scan(mnt);
                assertEquals(loop, map.source().device());
                try (RandomAccessFile img = new RandomAccessFile(image.toFile(), "r")) {
                    for (Map.Entry<String, byte[]> e : files.entrySet()) {
                        Path p = mnt.resolve(e.getKey());
                        List<Extent> extents = map.extentsOf(p).orElseThrow();
                        byte[] want = e.getValue();
                        long covered = 0;
                        for (Extent x : extents) {
                            int n = (int) Math.min(x.length(), want.length - x.fileOffset());
                            byte[] got = new byte[n];
                            img.seek(x.deviceOffset());
                            img.readFully(got);
                            byte[] expected =
                                    java.util.Arrays.copyOfRange(want, (int) x.fileOffset(), (int) x.fileOffset() + n);
                            assertArrayEquals(expected, got, e.getKey() + " extent " + x);
                            covered += n;
                            List<Owner> back = map.knownOwners(x.deviceOffset() + 1, 1);
                            assertEquals(1, back.size(), "one owner for a byte of " + e.getKey() + ": " + back);
                            assertEquals(p.toString(), back.get(0).name());
                            assertEquals(x.fileOffset() + 1, back.get(0).fileOffset());
                        }
                        assertEquals(want.length, covered, e.getKey() + ": every byte is on the device");
                        assertEquals(
                                filefrag(p),
                                extents.stream()
                                        .map(x -> x.fileOffset() + ":" + x.deviceOffset() + ":" + x.length())
                                        .toList(),
                                e.getKey() + " agrees with filefrag -e");
                    }
                }
                for (String name : structures) {
                    Structure s = map.structures().stream()
                            .filter(x -> x.name().equals(name))
                            .findFirst()
                            .orElseThrow(() -> new AssertionError(name + " named: " + map.structures()));
                    List<Owner> back = map.knownOwners(s.deviceOffset(), 1);
                    assertEquals(name, back.get(0).name());
                    assertEquals(Owner.Kind.METADATA, back.get(0).kind());
                }
                // no byte belongs to two files
                long free = map.owners(0, 320L << 20).stream()
                        .filter(o -> o.kind() == Owner.Kind.UNOWNED)
                        .mapToLong(Owner::length)
                        .sum();
                assertTrue(free > 0 && free < 320L << 20, "some, not all, of the device is unowned: " + free);
                assertFalse(map.owners(0, 320L << 20).isEmpty());
            } finally {
                run("umount", mnt.toString());
            }
        } finally {
            run("losetup", "-d", loop);
        }
    }

    /** Small, medium, fragmented and nested files with seeded contents. */
    private static Map<String, byte[]> populate(Path mnt) throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("small", Images.random(SEED, 4096));
        files.put("odd", Images.random(SEED + 1, 100_001));
        files.put("dir/a/big", Images.random(SEED + 2, 5 << 20));
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Path p = mnt.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
        // interleaved appends make two files fragment each other
        byte[] x = new byte[0];
        byte[] y = new byte[0];
        for (int i = 0; i < 8; i++) {
            byte[] chunk = Images.random(SEED + 10 + i, 64 << 10);
            x = append(mnt.resolve("frag-x"), x, chunk);
            y = append(mnt.resolve("frag-y"), y, chunk);
        }
        files.put("frag-x", x);
        files.put("frag-y", y);
        return files;
    }

    private static byte[] append(Path p, byte[] have, byte[] chunk) throws Exception {
        Files.write(p, chunk, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        byte[] out = java.util.Arrays.copyOf(have, have.length + chunk.length);
        System.arraycopy(chunk, 0, out, have.length, chunk.length);
        return out;
    }

    private static final Pattern BLOCKS = Pattern.compile("blocks? of (\\d+) bytes");
    private static final Pattern ROW = Pattern.compile(
            "^\\s*\\d+:\\s*(\\d+)\\.\\.\\s*(\\d+):\\s*(\\d+)\\.\\.\\s*(\\d+):\\s*(\\d+):", Pattern.MULTILINE);

    /** filefrag -e's extents as fileOffset:deviceOffset:length in bytes, adjacent ones merged. */
    private static List<String> filefrag(Path p) {
        String out = run("filefrag", "-e", p.toString());
        Matcher b = BLOCKS.matcher(out);
        assertTrue(b.find(), out);
        long bs = Long.parseLong(b.group(1));
        List<long[]> rows = new ArrayList<>();
        Matcher m = ROW.matcher(out);
        while (m.find()) {
            rows.add(new long[] {
                Long.parseLong(m.group(1)) * bs, Long.parseLong(m.group(3)) * bs, Long.parseLong(m.group(5)) * bs
            });
        }
        List<String> merged = new ArrayList<>();
        for (long[] r : rows) {
            merged.add(r[0] + ":" + r[1] + ":" + r[2]);
        }
        return merged;
    }

    private static String run(String... command) {
        return Command.run(TIMEOUT, command).assertOk(String.join(" ", command)).stdout();
    }
}
