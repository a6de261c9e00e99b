package dev.faultdisk.export;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** The exports a server offers, in the order they were added; the first is the default export. */
public final class ExportRegistry implements AutoCloseable {
    private final Map<String, Export> byName = new ConcurrentHashMap<>();
    private final List<Export> ordered = new CopyOnWriteArrayList<>();

    /** Adds an export; names are unique. */
    public synchronized void add(Export export) {
        if (byName.putIfAbsent(export.name(), export) != null) {
            throw new IllegalArgumentException("duplicate export name '" + export.name() + "'");
        }
        ordered.add(export);
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

    /** Flushes and closes every export; reports the first failure after trying all. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Export export : new ArrayList<>(ordered)) {
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
