package dev.faultdisk.server;

import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.FileTrees;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The warm-up's private exports ({@link WarmUp}): one for each kind of real export (backend,
 * read-only or not, write cache mode), at most {@link #MAX_KINDS}, the first of a kind standing for
 * the rest, each without its rules. A memory export's copy is empty and at most {@link #SPAN}; a
 * writable image's is an empty sparse scratch file beside it (its own file system), at most as
 * long, removed by {@link #close}; a read-only image is opened read-only and unlocked beside the
 * real export. No byte of a real image is written.
 */
final class WarmUpExports implements AutoCloseable {
    /** The most of a memory export or scratch file a warm-up makes and touches. */
    private static final long SPAN = 64L << 20;

    /** The most kinds of export warmed: each more one shortens each one's share. */
    static final int MAX_KINDS = 4;

    private final List<ExportSpec> copies;
    private final List<Path> scratches;

    private WarmUpExports(List<ExportSpec> copies, List<Path> scratches) {
        this.copies = List.copyOf(copies);
        this.scratches = List.copyOf(scratches);
    }

    /** The private exports for {@code exports}, named {@code warm-up}, {@code warm-up-1}, ... */
    static WarmUpExports of(List<ExportSpec> exports) {
        List<ExportSpec> copies = new ArrayList<>();
        List<Path> scratches = new ArrayList<>();
        for (ExportSpec kind : kinds(exports)) {
            Path scratch = scratchBeside(kind);
            if (scratch != null) {
                scratches.add(scratch);
            }
            copies.add(copy(kind, scratch, copies.isEmpty() ? "warm-up" : "warm-up-" + copies.size()));
        }
        return new WarmUpExports(copies, scratches);
    }

    List<ExportSpec> copies() {
        return copies;
    }

    /** The first export of each kind, in order, at most {@link #MAX_KINDS}: each kind runs some code the others do not. */
    private static List<ExportSpec> kinds(List<ExportSpec> exports) {
        record Kind(ExportSpec.Kind backend, boolean readOnly, CacheMode cache) {}
        Map<Kind, ExportSpec> first = new LinkedHashMap<>();
        for (ExportSpec e : exports) {
            if (first.size() < MAX_KINDS) {
                first.putIfAbsent(new Kind(e.kind(), e.readOnly(), e.cache()), e);
            }
        }
        return List.copyOf(first.values());
    }

    /**
     * For a writable image, an empty sparse file beside it, at most {@link #SPAN} long, that the
     * warm-up may write and flush; null for other exports, or when the image's directory takes no
     * new file (then the image itself is read, never written).
     */
    private static Path scratchBeside(ExportSpec export) {
        if (export.kind() != ExportSpec.Kind.FILE || export.readOnly()) {
            return null;
        }
        Path scratch = null;
        try {
            Path image = export.path().toAbsolutePath();
            if (!Files.isRegularFile(image)) {
                return null; // a scratch file beside a device or a pipe would land in /dev or worse
            }
            scratch = Files.createTempFile(image.getParent(), ".faultdisk-warm-up-", ".img");
            try (RandomAccessFile file = new RandomAccessFile(scratch.toFile(), "rw")) {
                file.setLength(Math.min(Files.size(image), SPAN)); // sparse
            }
            return scratch;
        } catch (IOException | RuntimeException e) {
            if (scratch != null) {
                deleteTree(scratch);
            }
            return null;
        }
    }

    private static ExportSpec copy(ExportSpec kind, Path scratch, String name) {
        if (scratch != null) {
            return new ExportSpec(name, ExportSpec.Kind.FILE, scratch, -1, false, List.of(), kind.cache(), false);
        }
        if (kind.kind() == ExportSpec.Kind.MEMORY) {
            return new ExportSpec(
                    name,
                    ExportSpec.Kind.MEMORY,
                    null,
                    Math.min(kind.size(), SPAN),
                    kind.readOnly(),
                    List.of(),
                    kind.cache(),
                    false);
        }
        return new ExportSpec(name, ExportSpec.Kind.FILE, kind.path(), -1, true, List.of(), kind.cache(), false);
    }

    /** Removes the scratch files. */
    @Override
    public void close() {
        scratches.forEach(WarmUpExports::deleteTree);
    }

    static void deleteTree(Path dir) {
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            // A temporary file left behind costs little; the warm-up itself went through.
        }
    }
}
