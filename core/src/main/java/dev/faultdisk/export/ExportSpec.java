package dev.faultdisk.export;

import dev.faultdisk.device.BlockDevice;
import dev.faultdisk.device.FileDevice;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.device.Sizes;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Suggestions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One export as given on the command line: {@code NAME=SPEC}, where SPEC is {@code memory:SIZE},
 * a path to a raw image, or {@code blkdebug:CONF:IMAGE} (QEMU's blkdebug filename syntax: the
 * blkdebug configuration file CONF, which may be empty, over IMAGE, itself {@code memory:SIZE} or
 * a path), followed by options {@code ,size=SIZE} (create or extend the file sparse),
 * {@code ,readonly}, {@code ,rules=FILE} (a blkdebug configuration file whose rules the
 * export's engine starts with; repeatable), {@code ,cache=MODE} (the simulated write cache:
 * writethrough, the default, writeback or lying-flush) and {@code ,locking=off} (an image file
 * served without the lock that keeps other faultdisk processes from writing it, as QEMU's
 * {@code file.locking=off}: for several servers given one image on purpose, as the benchmarks do).
 *
 * @param ruleFiles blkdebug configuration files to load, in order (CONF first)
 * @param cache the mode the export's write cache starts in
 * @param locking an image file is locked while served ({@code FileDevice})
 */
public record ExportSpec(
        String name,
        Kind kind,
        Path path,
        long size,
        boolean readOnly,
        List<Path> ruleFiles,
        CacheMode cache,
        boolean locking) {

    /** What backs the export. */
    public enum Kind {
        MEMORY,
        FILE
    }

    private static final String BLKDEBUG = "blkdebug:";
    private static final List<String> BACKENDS = List.of("memory", "blkdebug");
    /** A word and a colon at the start: how a backend is named, never how a path begins. */
    private static final Pattern BACKEND_PREFIX = Pattern.compile("([A-Za-z][A-Za-z0-9_+-]*):");

    public ExportSpec {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            // The empty name asks for the default (first) export, so no export can be called that.
            throw new IllegalArgumentException("export name is empty: use NAME=SPEC, e.g. disk0=memory:1G");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > 4096) {
            throw new IllegalArgumentException("export name longer than 4096 bytes (in UTF-8), the NBD limit");
        }
        ruleFiles = List.copyOf(ruleFiles);
        Objects.requireNonNull(cache, "cache");
    }

    /** A spec whose image, if any, is locked while served. */
    public ExportSpec(
            String name, Kind kind, Path path, long size, boolean readOnly, List<Path> ruleFiles, CacheMode cache) {
        this(name, kind, path, size, readOnly, ruleFiles, cache, true);
    }

    /** A spec with a writethrough cache. */
    public ExportSpec(String name, Kind kind, Path path, long size, boolean readOnly, List<Path> ruleFiles) {
        this(name, kind, path, size, readOnly, ruleFiles, CacheMode.WRITETHROUGH);
    }

    /** A spec without rule files, with a writethrough cache. */
    public ExportSpec(String name, Kind kind, Path path, long size, boolean readOnly) {
        this(name, kind, path, size, readOnly, List.of());
    }

    /** Parses {@code NAME=SPEC}. */
    public static ExportSpec parse(String text) {
        int eq = text.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException(
                    "export must be NAME=SPEC, e.g. disk0=memory:1G or disk1=/tmp/disk.img,size=1G: '" + text + "'");
        }
        return parse(text.substring(0, eq), text.substring(eq + 1));
    }

    /** Parses SPEC for the export {@code name}. */
    public static ExportSpec parse(String name, String spec) {
        String[] parts = spec.split(",");
        String target = parts[0];
        long size = -1;
        boolean readOnly = false;
        List<Path> rules = new ArrayList<>();
        CacheMode cache = CacheMode.WRITETHROUGH;
        boolean locking = true;
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i].trim();
            if (option.equals("readonly") || option.equals("ro")) {
                readOnly = true;
            } else if (option.startsWith("size=")) {
                size = Sizes.parse(option.substring("size=".length()));
            } else if (option.startsWith("rules=")) {
                String file = option.substring("rules=".length());
                if (file.isEmpty()) {
                    throw new IllegalArgumentException("rules= needs a blkdebug configuration file in '" + spec + "'");
                }
                rules.add(Path.of(file));
            } else if (option.startsWith("cache=")) {
                cache = CacheMode.parse(option.substring("cache=".length()));
            } else if (option.startsWith("locking=")) {
                locking = switch (option.substring("locking=".length())) {
                    case "on" -> true;
                    case "off" -> false;
                    default ->
                        throw new IllegalArgumentException("locking= is on or off, not '"
                                + option.substring("locking=".length()) + "', in '" + spec + "'");
                };
            } else {
                throw new IllegalArgumentException("unknown export option '" + option + "' in '" + spec
                        + "' (known: size=SIZE, readonly, rules=FILE, cache=MODE, locking=off)");
            }
        }
        if (target.startsWith(BLKDEBUG)) {
            String rest = target.substring(BLKDEBUG.length());
            int colon = rest.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("blkdebug requires both config file and image path: "
                        + "blkdebug:CONF:IMAGE (CONF may be empty) in '" + spec + "'");
            }
            if (colon > 0) {
                rules.addFirst(Path.of(rest.substring(0, colon)));
            }
            target = rest.substring(colon + 1);
        }
        if (target.startsWith("memory:")) {
            if (size >= 0) {
                throw new IllegalArgumentException(
                        "export '" + name + "' gives its size twice: use memory:SIZE or memory,size=SIZE");
            }
            long memSize = Sizes.parse(target.substring("memory:".length()));
            return new ExportSpec(name, Kind.MEMORY, null, memSize, readOnly, rules, cache);
        }
        if (target.equals("memory")) {
            if (size < 0) {
                throw new IllegalArgumentException("memory export needs a size: memory:SIZE");
            }
            return new ExportSpec(name, Kind.MEMORY, null, size, readOnly, rules, cache);
        }
        if (target.isEmpty()) {
            throw new IllegalArgumentException("export '" + name + "' has no image path or memory:SIZE");
        }
        rejectUnknownBackend(target, spec);
        return new ExportSpec(name, Kind.FILE, Path.of(target), size, readOnly, rules, cache, locking);
    }

    /**
     * A target that starts like a backend ({@code memroy:64M}, {@code nbd:...}) is a mistake far
     * more often than a file name with a colon: taken as a path, ,size= would create that file.
     * A relative file whose name has a colon is still served when written as ./NAME.
     */
    private static void rejectUnknownBackend(String target, String spec) {
        Matcher m = BACKEND_PREFIX.matcher(target);
        if (!m.lookingAt()) {
            return;
        }
        String backend = m.group(1);
        String hint = Suggestions.closest(backend, BACKENDS)
                .map(b -> "did you mean " + b + ":? ")
                .orElse("");
        throw new IllegalArgumentException("unknown backend '" + backend + ":' in '" + spec + "': " + hint
                + "(backends: memory:SIZE, blkdebug:CONF:IMAGE, or the path of a raw image; a file whose name has a"
                + " colon is ./" + target + ")");
    }

    /**
     * The size the export will have, found without opening or creating anything: a memory
     * export's size, or the image's (at least {@code ,size=}); fails as opening would for a
     * missing image without {@code ,size=}.
     */
    public long sizeWithoutOpening() throws IOException {
        return kind == Kind.MEMORY ? size : FileDevice.sizeOnOpen(path, size, readOnly);
    }

    /** Opens the backend this spec names (without decorators). */
    public BlockDevice openBackend() throws IOException {
        return switch (kind) {
            case MEMORY -> new MemoryDevice(size);
            case FILE -> FileDevice.open(path, size, readOnly, locking);
        };
    }
}
