package dev.faultdisk.filemap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * One export's link to the file system mounted from it: where it is mounted, the latest
 * {@link FileMap} of it (to name the files of faulted requests), and the {@link FileTarget}s that
 * rules and triggers aim at it (to re-resolve them on {@link #refresh}). Unbound until
 * {@link #attach}; the server and the tools must see the same mount (same host).
 */
public final class FileBinding {
    private volatile FileMap map;
    /** Targets of live rules and triggers; a removed rule's target goes with it. */
    private final Set<FileTarget> targets = Collections.newSetFromMap(new WeakHashMap<>());

    /** Binds the export to the file system mounted at {@code mountPoint} and maps it. */
    public FileMap attach(Path mountPoint) throws IOException {
        FileMap scanned = FileMap.scan(mountPoint);
        map = scanned;
        return scanned;
    }

    /** Forgets the mount; rules already resolved keep their ranges. */
    public void detach() {
        map = null;
    }

    public Optional<FileMap> map() {
        return Optional.ofNullable(map);
    }

    /**
     * Resolves {@code file} (absolute, or relative to the mount point) and its byte range to export
     * ranges now, and remembers the target for later refreshes.
     *
     * @throws IllegalArgumentException with a message for the user: not bound, not under the
     *     mount, not a regular file
     */
    public FileTarget target(String file, long fileOffset, long fileLength) {
        FileMap m = map;
        if (m == null) {
            throw new IllegalArgumentException(
                    "the export has no file map: run file-map-attach with the mount point of its file system first");
        }
        Path p = locate(m, file);
        FileTarget t = new FileTarget(p.toString(), fileOffset, fileLength);
        try {
            t.update(FileMap.resolve(m.source(), p));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot map " + p + ": " + e.getMessage());
        }
        synchronized (targets) {
            targets.add(t);
        }
        return t;
    }

    private static Path locate(FileMap m, String file) {
        Path mount = m.source().mountPoint();
        Path p = mount.resolve(file).normalize();
        if (!p.startsWith(mount)) {
            throw new IllegalArgumentException("'" + file + "' is not under the export's mount point " + mount);
        }
        if (!Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                && !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("'" + p + "' is not a regular file or directory (or does not exist)");
        }
        try {
            if (!Files.getAttribute(p, "unix:dev").equals(Files.getAttribute(mount, "unix:dev"))) {
                throw new IllegalArgumentException("'" + p + "' lies on another file system than the export's");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot stat " + p + ": " + e.getMessage());
        }
        return p;
    }

    /**
     * Scans the file system again and re-resolves every live target: a grown file's new blocks are
     * covered from now on, a file that was removed covers nothing. Returns, per target path, how
     * many bytes it now covers.
     */
    public Map<String, Long> refresh() throws IOException {
        FileMap m = map;
        if (m == null) {
            throw new IllegalArgumentException("the export has no file map: run file-map-attach first");
        }
        map = FileMap.scan(m.source().mountPoint());
        List<FileTarget> live;
        synchronized (targets) {
            live = new ArrayList<>(targets);
        }
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (FileTarget t : live) {
            List<Extent> extents;
            try {
                extents = FileMap.resolve(m.source(), Path.of(t.path()));
            } catch (IOException e) {
                extents = List.of(); // gone: covers nothing
            }
            t.update(extents);
            long bytes = 0;
            for (List<Long> r : t.ranges()) {
                bytes += r.get(1);
            }
            out.merge(t.path(), bytes, Long::sum);
        }
        return out;
    }

    /** The owners of a request's range, as maps for events and the journal; empty when unbound. */
    public List<Map<String, Object>> name(long offset, long length) {
        FileMap m = map;
        if (m == null || length <= 0) {
            return List.of();
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Owner o : m.knownOwners(offset, length)) {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("kind", o.kind().wireName());
            e.put("name", o.name());
            if (o.fileOffset() >= 0) {
                e.put("file-offset", o.fileOffset());
            }
            e.put("offset", o.deviceOffset());
            e.put("length", o.length());
            out.add(e);
        }
        return out;
    }
}
