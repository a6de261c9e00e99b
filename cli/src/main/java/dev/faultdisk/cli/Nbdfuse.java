package dev.faultdisk.cli;

import dev.faultdisk.cli.HostTools.ToolException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Starts nbdfuse in the background, detached from this process, and stops it again. */
public final class Nbdfuse {
    private static final long READY_MILLIS = 30_000;
    private static final long EXIT_MILLIS = 15_000;

    private Nbdfuse() {}

    /**
     * Starts nbdfuse serving {@code uri} as {@code fuseDir/nbd}, in a session of its own so it
     * outlives this command and the terminal; waits until it is ready and returns its pid.
     */
    public static long start(String uri, Path fuseDir, Path log) throws ToolException, IOException {
        Path pidFile = fuseDir.resolveSibling(fuseDir.getFileName() + ".pid");
        Files.deleteIfExists(pidFile);
        List<String> cmd = new ArrayList<>();
        if (HostTools.find("setsid") != null) {
            cmd.add("setsid");
        }
        cmd.addAll(List.of("nbdfuse", "-P", pidFile.toString(), fuseDir.toString(), uri));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        long deadline = System.currentTimeMillis() + READY_MILLIS;
        try {
            while (!Files.exists(pidFile) || Files.size(pidFile) == 0 || !Files.exists(fuseDir.resolve("nbd"))) {
                if (!p.isAlive()) {
                    throw new ToolException(
                            "nbdfuse could not attach " + uri + " (exit " + p.exitValue() + "): " + tail(log));
                }
                if (System.currentTimeMillis() > deadline) {
                    p.destroy();
                    throw new ToolException(
                            "nbdfuse did not become ready within " + READY_MILLIS / 1000 + " s: " + tail(log));
                }
                Thread.sleep(20);
            }
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ToolException("interrupted while waiting for nbdfuse");
        } catch (NumberFormatException e) {
            throw new ToolException("nbdfuse wrote a bad pid file " + pidFile);
        } finally {
            Files.deleteIfExists(pidFile);
        }
    }

    /**
     * Unmounts {@code fuseDir} (nbdfuse then exits by itself), lazily if it is busy, and waits for
     * the process to go. Returns a note if it had to be lazy.
     */
    public static Optional<String> stop(Path fuseDir, long pid) throws ToolException {
        Optional<String> note = Optional.empty();
        if (Mounts.isMountPoint(fuseDir)) {
            HostTools.Result r = HostTools.run("fusermount3", "-u", fuseDir.toString());
            if (!r.ok()) {
                HostTools.check("fusermount3", "-u", "-z", fuseDir.toString());
                note = Optional.of("lazy FUSE unmount (" + r.message() + ")");
            }
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid)
                .filter(h -> h.info().command().map(c -> c.endsWith("nbdfuse")).orElse(false));
        if (process.isPresent()) {
            try {
                process.get().onExit().get(EXIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new ToolException("nbdfuse (pid " + pid + ") did not exit after its file was unmounted");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ToolException("interrupted while waiting for nbdfuse to exit");
            } catch (ExecutionException e) {
                throw new ToolException("waiting for nbdfuse: " + e.getCause());
            }
        }
        return note;
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
