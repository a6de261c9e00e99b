package dev.faultdisk.explore;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The export as a local block device for exploration: nbdfuse (in a session of its own) exposes
 * it as a file and a loop device sits on that file with direct I/O, so the loop device reads
 * bypass the page cache of the FUSE file: after the server changes the data underneath (a crash
 * state), nothing stale can be read from there. The loop device's own buffer cache is dropped
 * with {@code blockdev --flushbufs} before each state is mounted. {@link #close} takes everything
 * down, lazily where it must, and never leaves a mount, loop device or nbdfuse behind.
 *
 * <p>An unmount must end the file system's instance in the kernel, or the next mount of the
 * device would take that live instance over, with everything it cached of the previous state,
 * instead of reading the new one (and replaying its journal). Another program can keep it alive:
 * one that makes a mount namespace while a state is mounted (unshare, {@code ip netns exec})
 * gets a copy of the mount, and where mounts do not propagate (a private root, as in most
 * containers) the copy outlives our unmount. {@link #unmount} therefore unmounts such copies too
 * and waits until the instance is gone, or fails.
 */
final class LoopDisk implements AutoCloseable {
    private static final Duration STEP = Duration.ofSeconds(60);

    private final Path fuseDir;
    private final Process nbdfuse;
    private final String loop;
    private Path mounted;
    private String mountedType;

    private LoopDisk(Path fuseDir, Process nbdfuse, String loop) {
        this.fuseDir = fuseDir;
        this.nbdfuse = nbdfuse;
        this.loop = loop;
    }

    /** Attaches {@code uri} with nbdfuse on {@code fuseDir} (created) and a loop device on its file. */
    static LoopDisk attach(String uri, Path fuseDir, Path log) throws Proc.Failure, IOException {
        Files.createDirectories(fuseDir);
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.addAll(List.of("nbdfuse", fuseDir.toString(), uri));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        Path image = fuseDir.resolve("nbd");
        long deadline = System.nanoTime() + STEP.toNanos();
        try {
            while (!Files.exists(image)) {
                if (!p.isAlive()) {
                    throw new Proc.Failure("nbdfuse could not attach " + uri + " (exit " + p.exitValue() + "): "
                            + Files.readString(log).strip());
                }
                if (System.nanoTime() > deadline) {
                    throw new Proc.Failure("nbdfuse did not expose " + image + " within " + STEP.toSeconds() + " s");
                }
                p.waitFor(20, TimeUnit.MILLISECONDS);
            }
            String loop = Proc.check(STEP, "losetup", "-f", "--show", "--direct-io=on", image.toString())
                    .stdout()
                    .strip();
            return new LoopDisk(fuseDir, p, loop);
        } catch (Proc.Failure | IOException | RuntimeException e) {
            stopFuse(fuseDir, p);
            throw e;
        } catch (InterruptedException e) {
            stopFuse(fuseDir, p);
            Thread.currentThread().interrupt();
            throw new Proc.Failure("interrupted while attaching " + uri);
        }
    }

    String device() {
        return loop;
    }

    /** Mounts the device at {@code mnt}; the result says whether it worked and why not. */
    Proc.Result mount(Path mnt, String fsType, String options, Duration timeout) throws Proc.Failure, IOException {
        Files.createDirectories(mnt);
        awaitNoInstance(fsType);
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", fsType));
        if (options != null && !options.isEmpty()) {
            cmd.addAll(List.of("-o", options));
        }
        cmd.addAll(List.of(loop, mnt.toString()));
        Proc.Result r = Proc.run(timeout, cmd);
        if (r.ok()) {
            mounted = mnt;
            mountedType = fsType;
        } else if (isMounted(mnt)) { // timed out after all: take it down at once
            mounted = mnt;
            mountedType = fsType;
            unmount();
        }
        return r;
    }

    /** Unmounts what {@link #mount} mounted: lazily if it stays busy. */
    void unmount() throws Proc.Failure {
        if (mounted == null) {
            return;
        }
        Path m = mounted;
        Proc.Result r = Proc.run(STEP, List.of("umount", m.toString()));
        if (!r.ok() && isMounted(m)) {
            Proc.Result lazy = Proc.run(STEP, List.of("umount", "-l", m.toString()));
            if (!lazy.ok() && isMounted(m)) {
                throw new Proc.Failure("cannot unmount " + m + ": " + r.message());
            }
        }
        mounted = null;
        awaitNoInstance(mountedType);
    }

    /**
     * Returns once no file system instance of {@code fsType} lives on the device: copies of its
     * mount in other mount namespaces are unmounted (lazily, in their namespace); fails if it
     * stays alive all the same (a program there holds a file open on it).
     */
    private void awaitNoInstance(String fsType) throws Proc.Failure {
        String name = Path.of(loop).getFileName().toString();
        Path instance = Path.of("/sys/fs", fsType, name);
        if (!Files.exists(instance)) {
            return;
        }
        List<String> copies = ForeignMounts.release(name);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Files.exists(instance)) {
            if (System.nanoTime() > deadline) {
                throw new Proc.Failure("the " + fsType + " file system on " + loop + " stays mounted after it was"
                        + " unmounted"
                        + (copies.isEmpty()
                                ? ""
                                : " (copies in other mount namespaces: " + String.join(", ", copies) + ")")
                        + ": the next state cannot be mounted afresh");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Proc.Failure("interrupted while waiting for " + loop + " to be unmounted");
            }
        }
    }

    /** Drops the loop device's buffer cache (nothing is dirty: the file system is unmounted). */
    void dropCaches() throws Proc.Failure {
        Proc.check(STEP, "blockdev", "--flushbufs", loop);
    }

    static boolean isMounted(Path dir) {
        String wanted = dir.toAbsolutePath().normalize().toString();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && f[1].replace("\\040", " ").equals(wanted)) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    @Override
    public void close() throws Proc.Failure {
        List<String> problems = new ArrayList<>();
        try {
            unmount();
        } catch (Proc.Failure e) {
            problems.add(e.getMessage());
        }
        for (int attempt = 0; attempt < 50 && isBound(); attempt++) {
            Proc.run(STEP, List.of("losetup", "-d", loop));
            if (isBound()) { // a lazily unmounted file system lets go a little later
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (isBound()) {
            problems.add("loop device " + loop + " stays bound");
        }
        stopFuse(fuseDir, nbdfuse);
        if (!problems.isEmpty()) {
            throw new Proc.Failure(String.join("; ", problems));
        }
    }

    private boolean isBound() {
        Path sys = Path.of("/sys/block", Path.of(loop).getFileName().toString(), "loop", "backing_file");
        return Files.exists(sys);
    }

    private static void stopFuse(Path fuseDir, Process nbdfuse) {
        try {
            if (isMounted(fuseDir)) {
                Proc.Result r = Proc.run(STEP, List.of("fusermount3", "-u", fuseDir.toString()));
                if (!r.ok()) {
                    Proc.run(STEP, List.of("fusermount3", "-u", "-z", fuseDir.toString()));
                }
            }
        } catch (Proc.Failure e) {
            // nbdfuse is killed below; a FUSE mount without its daemon goes with it
        }
        try {
            if (!nbdfuse.waitFor(15, TimeUnit.SECONDS)) {
                ProcessTree.kill(nbdfuse);
            }
        } catch (InterruptedException e) {
            ProcessTree.kill(nbdfuse);
            Thread.currentThread().interrupt();
        }
    }
}
