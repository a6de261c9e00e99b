package dev.faultdisk.explore;

import dev.faultdisk.filemap.MountSource;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * nbdfuse exposing an NBD export as the file {@code DIR/nbd}. It runs in a session of its own, so
 * a Ctrl-C meant for faultdisk does not reach it and it can outlive the JVM that started it
 * ({@code faultdisk attach}): {@link #stop(Path, long)} takes it down by its pid from any process.
 */
public final class Nbdfuse {
    private static final Duration READY = Duration.ofSeconds(60);
    private static final Duration EXIT = Duration.ofSeconds(15);
    private static final Duration STEP = Duration.ofSeconds(60);
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private final Path dir;
    private final long pid;

    private Nbdfuse(Path dir, long pid) {
        this.dir = dir;
        this.pid = pid;
    }

    /**
     * Starts nbdfuse serving {@code uri} as {@code dir/nbd} ({@code dir} is created), its output
     * going to {@code log}, and waits until it serves; on failure nothing of it is left running.
     */
    public static Nbdfuse start(String uri, Path dir, Path log) throws IOException {
        Files.createDirectories(dir);
        // nbdfuse writes its pid there once it serves: the pid to stop it by, and the sign it is ready
        Path pidFile = dir.resolveSibling(dir.getFileName() + ".pid");
        Files.deleteIfExists(pidFile);
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETSID)) {
            cmd.add(SETSID.toString());
        }
        cmd.addAll(List.of("nbdfuse", "-P", pidFile.toString(), dir.toString(), uri));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        try {
            return new Nbdfuse(dir, awaitPid(p, uri, dir, pidFile, log));
        } catch (IOException | RuntimeException e) {
            try {
                unmount(dir);
            } catch (IOException s) {
                e.addSuppressed(s);
            }
            ProcessTree.kill(p);
            throw e;
        } finally {
            Files.deleteIfExists(pidFile);
        }
    }

    private static long awaitPid(Process p, String uri, Path dir, Path pidFile, Path log) throws IOException {
        Path image = dir.resolve("nbd");
        long deadline = System.nanoTime() + READY.toNanos();
        while (!Files.exists(image) || !Files.exists(pidFile) || Files.size(pidFile) == 0) {
            if (!p.isAlive()) {
                throw new IOException(
                        "nbdfuse could not attach " + uri + " (exit " + p.exitValue() + "): " + tail(log));
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(
                        "nbdfuse did not expose " + image + " within " + READY.toSeconds() + " s: " + tail(log));
            }
            try {
                p.waitFor(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while attaching " + uri);
            }
        }
        try {
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (NumberFormatException e) {
            throw new IOException("nbdfuse wrote a bad pid file " + pidFile, e);
        }
    }

    /** The file that is the export. */
    public Path image() {
        return dir.resolve("nbd");
    }

    public long pid() {
        return pid;
    }

    /**
     * Turns read-ahead off for the file, so a loop device opened on it afterwards passes on only
     * what is read (see {@link LoopDevice.Option#NO_READ_AHEAD}).
     */
    public void readAheadOff() throws IOException {
        String bdi =
                Proc.check(STEP, "mountpoint", "-d", dir.toString()).stdout().strip();
        Files.writeString(Path.of("/sys/class/bdi", bdi, "read_ahead_kb"), "0");
    }

    /** Stops this nbdfuse: see {@link #stop(Path, long)}. */
    public Optional<String> stop() throws IOException {
        return stop(dir, pid);
    }

    /**
     * Unmounts {@code dir} (nbdfuse then exits by itself), lazily if it is busy, and waits for
     * nbdfuse {@code pid} to exit; one that does not is killed, and said so. Returns a note if the
     * unmount had to be lazy.
     */
    public static Optional<String> stop(Path dir, long pid) throws IOException {
        Optional<String> note = Optional.empty();
        IOException failure = null;
        try {
            note = unmount(dir);
        } catch (IOException e) {
            failure = e; // nbdfuse is killed below: a FUSE mount without its daemon can go lazily later
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid)
                .filter(h -> h.info().command().map(c -> c.endsWith("nbdfuse")).orElse(false));
        if (process.isPresent()) {
            try {
                process.get().onExit().get(EXIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                ProcessTree.kill(process.get());
                failure = failure != null
                        ? failure
                        : new IOException(
                                "nbdfuse (pid " + pid + ") did not exit after its file was unmounted: killed");
            } catch (InterruptedException e) {
                ProcessTree.kill(process.get());
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for nbdfuse to exit");
            }
        }
        if (failure != null) {
            throw failure;
        }
        return note;
    }

    /** fusermount3 -u, else -u -z; a note if it had to be lazy. */
    private static Optional<String> unmount(Path dir) throws IOException {
        if (!MountSource.isMountPoint(dir)) {
            return Optional.empty();
        }
        Proc.Result r = Proc.run(STEP, List.of("fusermount3", "-u", dir.toString()));
        if (r.ok()) {
            return Optional.empty();
        }
        Proc.check(STEP, "fusermount3", "-u", "-z", dir.toString());
        return Optional.of("lazy FUSE unmount (" + r.message() + ")");
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log).strip();
            return s.isEmpty() ? "(no output)" : s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
