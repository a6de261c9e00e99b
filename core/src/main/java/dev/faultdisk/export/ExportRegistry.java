package dev.faultdisk.export;

import dev.faultdisk.device.FileDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The exports a server offers, in the order they were added; the first is the default export.
 * At most {@link #MAX_EXPORTS}: exports can be added at run time, and each holds memory and
 * threads' attention, so a client cannot make the server hold an unbounded number.
 */
public final class ExportRegistry implements AutoCloseable {
    /** The most exports one server holds. */
    public static final int MAX_EXPORTS = 256;

    private final Map<String, Export> byName = new ConcurrentHashMap<>();
    private final List<Export> ordered = new CopyOnWriteArrayList<>();
    private int maxRules = dev.faultdisk.fault.FaultEngine.DEFAULT_MAX_RULES;
    private int maxHeld = dev.faultdisk.fault.FaultEngine.DEFAULT_MAX_HELD;
    private long maxHeldBytes = dev.faultdisk.fault.FaultEngine.DEFAULT_MAX_HELD_BYTES;

    /**
     * The fault budgets of every export, those added later included: rules per export (fault rules
     * and blkdebug rules each), and
     * requests held at once per export with their bytes (docs/SECURITY.md).
     */
    public synchronized void faultLimits(int maxRules, int maxHeld, long maxHeldBytes) {
        for (Export e : ordered) {
            e.faults().limits(maxRules, maxHeld, maxHeldBytes);
            e.blkdebug().maxRules(maxRules);
        }
        this.maxRules = maxRules;
        this.maxHeld = maxHeld;
        this.maxHeldBytes = maxHeldBytes;
    }

    /** Adds an export; names are unique, and there are at most {@link #MAX_EXPORTS}. */
    public synchronized void add(Export export) {
        export.faults().limits(maxRules, maxHeld, maxHeldBytes);
        export.blkdebug().maxRules(maxRules);
        if (byName.containsKey(export.name())) {
            throw new IllegalArgumentException("duplicate export name '" + export.name() + "'");
        }
        if (ordered.size() >= MAX_EXPORTS) {
            throw new IllegalArgumentException("a server holds at most " + MAX_EXPORTS + " exports");
        }
        byName.put(export.name(), export);
        ordered.add(export);
    }

    /**
     * Refuses {@code spec} before it is opened if its image file is served already and either
     * export may write: two exports over one file would each cache, snapshot, reset and lose
     * power over data the other also writes (QEMU refuses the same with its image locks). The
     * same image read-only twice is fine.
     */
    public synchronized void checkImageFree(ExportSpec spec) throws IOException {
        if (spec.kind() != ExportSpec.Kind.FILE || !Files.exists(spec.path())) {
            return; // a memory disk, or a file this spec creates: nobody serves it yet
        }
        for (Export e : ordered) {
            if (e.backend() instanceof FileDevice f
                    && Files.exists(f.path())
                    && Files.isSameFile(f.path(), spec.path())
                    && !(spec.readOnly() && e.isReadOnly())) {
                throw new IllegalArgumentException("image " + spec.path() + " is served already as export '"
                        + e.name() + "'" + (e.isReadOnly() ? "" : ", writable")
                        + ": one image is served writable by one export only (add ,readonly to both to share it)");
            }
        }
    }

    /**
     * Takes the export out, so that no new client can choose it; closing it is the caller's
     * business. Empty if there is no such export.
     */
    public synchronized Optional<Export> remove(String name) {
        Export export = byName.remove(name);
        if (export != null) {
            ordered.remove(export);
        }
        return Optional.ofNullable(export);
    }

    /** The export with this name; the empty name means the default (first) export. */
    public Optional<Export> find(String name) {
        if (name.isEmpty()) {
            return ordered.isEmpty() ? Optional.empty() : Optional.of(ordered.getFirst());
        }
        return Optional.ofNullable(byName.get(name));
    }

    public List<Export> all() {
        return List.copyOf(ordered);
    }

    /** The exports' names, in the order they were added (for messages that list them). */
    public List<String> names() {
        return all().stream().map(Export::name).toList();
    }

    /** Flushes and closes every export; reports the first failure after trying all. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        // Newest first: a clone closes before its origin, so the origin can write its deltas back.
        for (Export export : new ArrayList<>(ordered).reversed()) {
            try {
                export.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
