package dev.faultdisk.cli;

import dev.faultdisk.explore.HostPrograms;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What {@code faultdisk attach} set up and {@code faultdisk detach} takes down, kept in a small
 * properties file per attachment: {@code /run/faultdisk/NAME.attach} for root, else under
 * {@code $XDG_RUNTIME_DIR/faultdisk}.
 *
 * @param name the attachment's name
 * @param uri the NBD URI nbdfuse serves
 * @param fuseDir where nbdfuse mounted the export's file
 * @param nbdfusePid nbdfuse's process id
 * @param loopDevice the loop device on that file, or empty
 * @param mountPoint where the file system is mounted, or empty
 */
record Attachment(String name, String uri, Path fuseDir, long nbdfusePid, String loopDevice, String mountPoint) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final String SUFFIX = ".attach";

    /** Throws unless {@code name} is usable as a file name. */
    static String checkName(String name) {
        if (!NAME.matcher(name).matches() || name.startsWith(".")) {
            throw new IllegalArgumentException(
                    "attachment name must be 1-64 letters, digits, '.', '_' or '-': '" + name + "'");
        }
        return name;
    }

    /** The default state directory: /run/faultdisk for root, else $XDG_RUNTIME_DIR/faultdisk. */
    static Path defaultStateDir() {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (HostPrograms.uid() != 0 && xdg != null && !xdg.isEmpty()) {
            return Path.of(xdg, "faultdisk");
        }
        return Path.of("/run/faultdisk");
    }

    /** The state file of attachment {@code name}. */
    static Path file(Path stateDir, String name) {
        return stateDir.resolve(name + SUFFIX);
    }

    /** Where nbdfuse of attachment {@code name} writes its messages. */
    static Path nbdfuseLog(Path stateDir, String name) {
        return stateDir.resolve(name + ".nbdfuse.log");
    }

    /** Writes the state file atomically. */
    void save(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        Properties p = new Properties();
        p.setProperty("name", name);
        p.setProperty("uri", uri);
        p.setProperty("fuse-dir", fuseDir.toString());
        p.setProperty("nbdfuse-pid", Long.toString(nbdfusePid));
        p.setProperty("loop-device", loopDevice);
        p.setProperty("mount-point", mountPoint);
        Path tmp = stateDir.resolve("." + name + SUFFIX + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "faultdisk attach: what faultdisk detach takes down");
        }
        Files.move(tmp, file(stateDir, name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static Attachment load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        String fuse = p.getProperty("fuse-dir");
        String pid = p.getProperty("nbdfuse-pid", "-1");
        if (fuse == null || fuse.isEmpty()) {
            throw new IOException(file + " is not an attachment state file (no fuse-dir)");
        }
        try {
            return new Attachment(
                    p.getProperty("name", ""),
                    p.getProperty("uri", ""),
                    Path.of(fuse),
                    Long.parseLong(pid),
                    p.getProperty("loop-device", ""),
                    p.getProperty("mount-point", ""));
        } catch (NumberFormatException e) {
            throw new IOException(file + ": bad nbdfuse-pid '" + pid + "'");
        }
    }

    /** Names of the attachments recorded in {@code stateDir}, sorted. */
    static List<String> names(Path stateDir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(stateDir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(stateDir)) {
            files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(SUFFIX) && !n.startsWith("."))
                    .map(n -> n.substring(0, n.length() - SUFFIX.length()))
                    .sorted()
                    .forEach(out::add);
        }
        return out;
    }
}
