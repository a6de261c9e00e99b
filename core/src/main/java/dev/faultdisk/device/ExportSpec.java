package dev.faultdisk.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One export as given on the command line: {@code NAME=SPEC}, where SPEC is {@code memory:SIZE} or
 * a path to a raw image, followed by options {@code ,size=SIZE} (create or extend the file sparse)
 * and {@code ,readonly}.
 */
public record ExportSpec(String name, Kind kind, Path path, long size, boolean readOnly) {

    /** What backs the export. */
    public enum Kind { MEMORY, FILE }

    public ExportSpec {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            // The empty name asks for the default (first) export, so no export can be called that.
            throw new IllegalArgumentException("export name is empty: use NAME=SPEC, e.g. disk0=memory:1G");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > 4096) {
            throw new IllegalArgumentException("export name longer than 4096 bytes (in UTF-8), the NBD limit");
        }
    }

    /** Parses {@code NAME=SPEC}. */
    public static ExportSpec parse(String text) {
        int eq = text.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException("export must be NAME=SPEC, e.g. disk0=memory:1G or disk1=/tmp/disk.img,size=1G: '"
                    + text + "'");
        }
        return parse(text.substring(0, eq), text.substring(eq + 1));
    }

    /** Parses SPEC for the export {@code name}. */
    public static ExportSpec parse(String name, String spec) {
        String[] parts = spec.split(",");
        String target = parts[0];
        long size = -1;
        boolean readOnly = false;
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i].trim();
            if (option.equals("readonly") || option.equals("ro")) {
                readOnly = true;
            } else if (option.startsWith("size=")) {
                size = Sizes.parse(option.substring("size=".length()));
            } else {
                throw new IllegalArgumentException("unknown export option '" + option
                        + "' in '" + spec + "' (known: size=SIZE, readonly)");
            }
        }
        if (target.startsWith("memory:")) {
            if (size >= 0) {
                throw new IllegalArgumentException("export '" + name + "' gives its size twice: use memory:SIZE or memory,size=SIZE");
            }
            long memSize = Sizes.parse(target.substring("memory:".length()));
            return new ExportSpec(name, Kind.MEMORY, null, memSize, readOnly);
        }
        if (target.equals("memory")) {
            if (size < 0) {
                throw new IllegalArgumentException("memory export needs a size: memory:SIZE");
            }
            return new ExportSpec(name, Kind.MEMORY, null, size, readOnly);
        }
        if (target.isEmpty()) {
            throw new IllegalArgumentException("export '" + name + "' has no image path or memory:SIZE");
        }
        return new ExportSpec(name, Kind.FILE, Path.of(target), size, readOnly);
    }

    /** Opens the backend this spec names (without decorators). */
    public BlockDevice openBackend() throws IOException {
        return switch (kind) {
            case MEMORY -> new MemoryDevice(size);
            case FILE -> FileDevice.open(path, size, readOnly);
        };
    }
}
