package dev.faultdisk.filemap;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The file system's own structures on a device, named as the file system's tools tell them:
 * for ext4, {@code dumpe2fs} (superblocks, group descriptors, bitmaps, inode tables) and
 * {@code debugfs} (the journal's blocks); for XFS, {@code xfs_db} (each allocation group's
 * headers and the internal log). Both tools read the device while it is mounted; what they see
 * is as of the last write-back, which is enough for structures that stay in place.
 */
public final class MetadataMap {
    private static final long TOOL_MILLIS = 30_000;
    private static final Pattern EXT4_BLOCK_SIZE = Pattern.compile("(?m)^Block size:\\s+(\\d+)");
    private static final Pattern EXT4_JOURNAL_INODE = Pattern.compile("(?m)^Journal inode:\\s+(\\d+)");
    private static final Pattern EXT4_RANGE = Pattern.compile(
            "(Primary superblock|Backup superblock|Group descriptors|Reserved GDT blocks|Block bitmap|Inode bitmap"
                    + "|Inode table) at (\\d+)(?:-(\\d+))?");
    private static final Pattern EXT4_EXTENT = Pattern.compile("\\((?:\\d+(?:-\\d+)?|ETB\\d+)\\):(\\d+)(?:-(\\d+))?");

    private MetadataMap() {}

    /**
     * The structures of the file system on {@code source}, offsets on the device; an empty list
     * for a file system this class does not know.
     */
    public static List<Structure> of(MountSource source) throws IOException {
        List<Structure> out = switch (source.fsType()) {
            case "ext2", "ext3", "ext4" -> ext4(source.device());
            case "xfs" -> xfs(source.device());
            default -> new ArrayList<>();
        };
        out.sort(Comparator.comparingLong(Structure::deviceOffset));
        return out;
    }

    static List<Structure> ext4(String device) throws IOException {
        String dump = run("dumpe2fs", device);
        List<Structure> out = parseDumpe2fs(dump);
        Matcher j = EXT4_JOURNAL_INODE.matcher(dump);
        if (j.find()) {
            long blockSize = blockSize(dump);
            out.addAll(parseJournal(run("debugfs", "-R", "stat <" + j.group(1) + ">", device), blockSize));
        }
        return out;
    }

    /** Superblocks, descriptors, bitmaps and inode tables from dumpe2fs's group listing. */
    static List<Structure> parseDumpe2fs(String dump) throws IOException {
        long blockSize = blockSize(dump);
        List<Structure> out = new ArrayList<>();
        Matcher m = EXT4_RANGE.matcher(dump);
        while (m.find()) {
            long first = Long.parseLong(m.group(2));
            long last = m.group(3) == null ? first : Long.parseLong(m.group(3));
            String what = m.group(1)
                    .toLowerCase(java.util.Locale.ROOT)
                    .replace("primary ", "")
                    .replace("backup ", "")
                    .replace("reserved gdt blocks", "reserved group descriptors");
            out.add(new Structure("ext4 " + what, first * blockSize, (last - first + 1) * blockSize));
        }
        return out;
    }

    /** The journal's blocks from the EXTENTS list of {@code debugfs stat <8>}. */
    static List<Structure> parseJournal(String stat, long blockSize) {
        List<Structure> out = new ArrayList<>();
        int at = stat.indexOf("EXTENTS:");
        if (at < 0) {
            return out;
        }
        Matcher m = EXT4_EXTENT.matcher(stat.substring(at));
        while (m.find()) {
            long first = Long.parseLong(m.group(1));
            long last = m.group(2) == null ? first : Long.parseLong(m.group(2));
            out.add(new Structure("ext4 journal", first * blockSize, (last - first + 1) * blockSize));
        }
        return out;
    }

    private static long blockSize(String dump) throws IOException {
        Matcher b = EXT4_BLOCK_SIZE.matcher(dump);
        if (!b.find()) {
            throw new IOException("dumpe2fs printed no block size");
        }
        return Long.parseLong(b.group(1));
    }

    static List<Structure> xfs(String device) throws IOException {
        String sb = run(
                "xfs_db",
                "-r",
                "-c",
                "sb 0",
                "-c",
                "print blocksize sectsize agblocks agcount logstart logblocks",
                device);
        return parseXfs(sb, device);
    }

    static List<Structure> parseXfs(String sb, String device) throws IOException {
        long blockSize = field(sb, "blocksize");
        long sectSize = field(sb, "sectsize");
        long agBlocks = field(sb, "agblocks");
        long agCount = field(sb, "agcount");
        long logStart = field(sb, "logstart");
        long logBlocks = field(sb, "logblocks");
        List<Structure> out = new ArrayList<>();
        String[] names = {
            "xfs superblock", "xfs free space header (AGF)", "xfs inode header (AGI)", "xfs free list (AGFL)"
        };
        for (long ag = 0; ag < agCount; ag++) {
            long base = ag * agBlocks * blockSize;
            for (int s = 0; s < names.length; s++) {
                out.add(new Structure(names[s], base + s * sectSize, sectSize));
            }
        }
        if (logStart != 0 && logBlocks > 0) {
            // fsblock numbers are agno << agblklog | agbno: ask xfs_db for the byte address
            String conv = run("xfs_db", "-r", "-c", "convert fsb " + logStart + " byte", device);
            Matcher m = Pattern.compile("0x[0-9a-f]+ \\((\\d+)\\)").matcher(conv);
            if (m.find()) {
                out.add(new Structure("xfs log", Long.parseLong(m.group(1)), logBlocks * blockSize));
            }
        }
        return out;
    }

    private static long field(String text, String name) throws IOException {
        Matcher m = Pattern.compile("(?m)^" + name + " = (\\d+)").matcher(text);
        if (!m.find()) {
            throw new IOException("xfs_db printed no " + name);
        }
        return Long.parseLong(m.group(1));
    }

    private static String run(String... command) throws IOException {
        Process p = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        try {
            if (!p.waitFor(TOOL_MILLIS, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(command[0] + " did not finish within " + TOOL_MILLIS / 1000 + " s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + ")");
            }
            return new String(out.join(), StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command[0], e);
        }
    }
}
