package dev.faultdisk.filemap;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which file (or file-system structure) each byte of a mounted export belongs to, and where each
 * file lies on the export: a scan of every file and directory under a mount point with FIEMAP,
 * plus the structures {@link MetadataMap} names. Offsets are the export's (the FIEMAP physical
 * offset plus the loop device's offset). A map is a picture taken at {@link #scan}: a file
 * written later may have new blocks; scan again (or {@link #resolve} one file) to see them.
 */
public final class FileMap {
    private final MountSource source;
    private final Map<String, List<Extent>> files;
    private final List<Structure> structures;
    private final Piece[] pieces;
    private final long[] maxEnd;

    /** A run of device bytes and its owner, for the reverse index. */
    private record Piece(long start, long end, Owner.Kind kind, String name, long fileOffset) {}

    private FileMap(
            MountSource source, Map<String, List<Extent>> files, List<String> dirs, List<Structure> structures) {
        this.source = source;
        this.files = Collections.unmodifiableMap(files);
        this.structures = List.copyOf(structures);
        List<Piece> all = new ArrayList<>();
        files.forEach((path, extents) -> {
            Owner.Kind kind = dirs.contains(path) ? Owner.Kind.DIRECTORY : Owner.Kind.FILE;
            for (Extent e : extents) {
                all.add(new Piece(e.deviceOffset(), e.deviceEnd(), kind, path, e.fileOffset()));
            }
        });
        for (Structure s : structures) {
            all.add(new Piece(s.deviceOffset(), s.deviceEnd(), Owner.Kind.METADATA, s.name(), -1));
        }
        all.sort(Comparator.comparingLong(Piece::start));
        this.pieces = all.toArray(Piece[]::new);
        this.maxEnd = new long[pieces.length];
        long max = Long.MIN_VALUE;
        for (int i = 0; i < pieces.length; i++) {
            max = Math.max(max, pieces[i].end());
            maxEnd[i] = max;
        }
    }

    /**
     * Maps every file and directory under {@code mountPoint} (which must be a mount point) and
     * names the file system's structures. Files on other file systems mounted below are left out.
     */
    public static FileMap scan(Path mountPoint) throws IOException {
        MountSource source = MountSource.of(mountPoint);
        Object device = Files.getAttribute(source.mountPoint(), "unix:dev");
        Map<String, List<Extent>> files = new LinkedHashMap<>();
        List<String> dirs = new ArrayList<>();
        Files.walkFileTree(source.mountPoint(), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!device.equals(Files.getAttribute(dir, "unix:dev"))) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                add(dir);
                dirs.add(dir.toString());
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // gone while we walked: nothing to map
            }

            private void add(Path p) {
                try {
                    files.put(p.toString(), shift(Fiemap.extents(p), source.startOffset()));
                } catch (NoSuchFileException e) {
                    // removed while we walked
                } catch (IOException e) {
                    files.put(p.toString(), List.of());
                }
            }
        });
        List<Structure> structures;
        try {
            structures = MetadataMap.of(source);
        } catch (IOException e) {
            structures = List.of(); // the tools are missing or refused: files are still mapped
        }
        List<Structure> shifted = new ArrayList<>();
        for (Structure s : structures) {
            shifted.add(new Structure(s.name(), s.deviceOffset() + source.startOffset(), s.length()));
        }
        return new FileMap(source, files, dirs, shifted);
    }

    /**
     * The extents of one file on the export now (a fresh FIEMAP), for a file under the mount
     * {@code source} describes.
     */
    public static List<Extent> resolve(MountSource source, Path file) throws IOException {
        return shift(Fiemap.extents(file), source.startOffset());
    }

    private static List<Extent> shift(List<Extent> extents, long by) {
        if (by == 0) {
            return List.copyOf(extents);
        }
        List<Extent> out = new ArrayList<>(extents.size());
        for (Extent e : extents) {
            out.add(new Extent(e.fileOffset(), e.deviceOffset() + by, e.length(), e.flags()));
        }
        return List.copyOf(out);
    }

    public MountSource source() {
        return source;
    }

    /** Every file and directory mapped, by absolute path, with its extents in file order. */
    public Map<String, List<Extent>> files() {
        return files;
    }

    /** The file system's structures, by device offset. */
    public List<Structure> structures() {
        return structures;
    }

    /** The extents of {@code path} as scanned, or empty if it was not there. */
    public Optional<List<Extent>> extentsOf(Path path) {
        return Optional.ofNullable(files.get(path.toAbsolutePath().normalize().toString()));
    }

    /**
     * What holds each part of {@code [offset, offset + length)}, in device order: pieces of files,
     * directories and structures, and {@link Owner.Kind#UNOWNED} pieces for the gaps.
     */
    public List<Owner> owners(long offset, long length) {
        long end = offset + length;
        List<Owner> found = new ArrayList<>();
        // the pieces that start before end, walked backwards while one of them may still reach offset
        int hi = firstStartAtOrAfter(end) - 1;
        for (int i = hi; i >= 0 && maxEnd[i] > offset; i--) {
            Piece p = pieces[i];
            if (p.end() > offset) {
                long s = Math.max(p.start(), offset);
                long e = Math.min(p.end(), end);
                long fileOffset = p.fileOffset() < 0 ? -1 : p.fileOffset() + (s - p.start());
                found.add(new Owner(p.kind(), p.name(), fileOffset, s, e - s));
            }
        }
        found.sort(Comparator.comparingLong(Owner::deviceOffset));
        List<Owner> out = new ArrayList<>();
        long at = offset;
        for (Owner o : found) {
            if (o.deviceOffset() > at) {
                out.add(new Owner(Owner.Kind.UNOWNED, "unowned", -1, at, o.deviceOffset() - at));
            }
            out.add(o);
            at = Math.max(at, o.deviceOffset() + o.length());
        }
        if (at < end) {
            out.add(new Owner(Owner.Kind.UNOWNED, "unowned", -1, at, end - at));
        }
        return out;
    }

    /** The owners of a range other than the unowned gaps, in device order. */
    public List<Owner> knownOwners(long offset, long length) {
        return owners(offset, length).stream()
                .filter(o -> o.kind() != Owner.Kind.UNOWNED)
                .toList();
    }

    private int firstStartAtOrAfter(long value) {
        int lo = 0;
        int hi = pieces.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (pieces[mid].start() < value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    @Override
    public String toString() {
        return "FileMap[" + source.mountPoint() + " on " + source.device() + ": " + files.size() + " files, "
                + structures.size() + " structures, " + Arrays.stream(pieces).count() + " pieces]";
    }
}
