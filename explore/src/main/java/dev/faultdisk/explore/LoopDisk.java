package dev.faultdisk.explore;

import dev.faultdisk.filemap.MountSource;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * An NBD export as a local block device: {@link Nbdfuse} exposes it as a file, a {@link
 * LoopDevice} sits on that file, a file system may be mounted on top. {@link #close} takes
 * everything down, lazily where it must (a disk that lost its power fails every write, so umount
 * may fail), and never leaves a mount, loop device or nbdfuse behind.
 *
 * <p>An unmount must end the file system's instance in the kernel, or the next mount of the
 * device would take that live instance over, with everything it cached of the previous state,
 * instead of reading the new one (and replaying its journal). Another program can keep it alive:
 * one that makes a mount namespace while a state is mounted (unshare, {@code ip netns exec})
 * gets a copy of the mount, and where mounts do not propagate (a private root, as in most
 * containers) the copy outlives our unmount. {@link #unmount} therefore unmounts such copies too
 * and waits until the instance is gone, or fails.
 */
public final class LoopDisk implements AutoCloseable {
    private static final Duration STEP = Duration.ofSeconds(60);

    private final Nbdfuse fuse;
    private final LoopDevice loop;
    private Path mounted;
    private String mountedType;

    private LoopDisk(Nbdfuse fuse, LoopDevice loop) {
        this.fuse = fuse;
        this.loop = loop;
    }

    /**
     * Attaches {@code uri} with nbdfuse on {@code fuseDir} (created; its output goes to {@code
     * log}) and a loop device on its file, read as {@code options} say.
     */
    public static LoopDisk attach(String uri, Path fuseDir, Path log, LoopDevice.Option... options) throws IOException {
        Set<LoopDevice.Option> set = EnumSet.noneOf(LoopDevice.Option.class);
        set.addAll(List.of(options));
        Nbdfuse fuse = Nbdfuse.start(uri, fuseDir, log);
        try {
            if (set.contains(LoopDevice.Option.NO_READ_AHEAD)) {
                fuse.readAheadOff();
            }
            return new LoopDisk(fuse, LoopDevice.bind(fuse.image(), set));
        } catch (IOException | RuntimeException e) {
            try {
                fuse.stop();
            } catch (IOException s) {
                e.addSuppressed(s);
            }
            throw e;
        }
    }

    /** The loop device's path, {@code /dev/loopN}. */
    public String device() {
        return loop.device();
    }

    /** Mounts the device's {@code fsType} file system at {@code mnt} (created), or fails with mount's message. */
    public void mount(Path mnt, String fsType, String options) throws IOException {
        Proc.Result r = tryMount(mnt, fsType, options, STEP);
        if (!r.ok()) {
            throw new IOException("cannot mount " + loop.device() + " at " + mnt + ": "
                    + (r.timedOut() ? "timed out; " : "") + r.message());
        }
    }

    /** Mounts the device at {@code mnt}; the result says whether it worked and why not. */
    Proc.Result tryMount(Path mnt, String fsType, String options, Duration timeout) throws IOException {
        Files.createDirectories(mnt);
        awaitNoInstance(fsType);
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", fsType));
        if (options != null && !options.isEmpty()) {
            cmd.addAll(List.of("-o", options));
        }
        cmd.addAll(List.of(loop.device(), mnt.toString()));
        Proc.Result r = Proc.run(timeout, cmd);
        if (r.ok()) {
            mounted = mnt;
            mountedType = fsType;
        } else if (MountSource.isMountPoint(mnt)) { // timed out after all: take it down at once
            mounted = mnt;
            mountedType = fsType;
            unmount();
        }
        return r;
    }

    /** Unmounts what {@link #mount} mounted: lazily if it stays busy. */
    public void unmount() throws IOException {
        if (mounted == null) {
            return;
        }
        Path m = mounted;
        Proc.Result r = Proc.run(STEP, List.of("umount", m.toString()));
        if (!r.ok() && MountSource.isMountPoint(m)) {
            Proc.Result lazy = Proc.run(STEP, List.of("umount", "-l", m.toString()));
            if (!lazy.ok() && MountSource.isMountPoint(m)) {
                throw new IOException("cannot unmount " + m + ": " + r.message());
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
    private void awaitNoInstance(String fsType) throws IOException {
        String name = Path.of(loop.device()).getFileName().toString();
        Path instance = Path.of("/sys/fs", fsType, name);
        if (!Files.exists(instance)) {
            return;
        }
        List<String> copies = ForeignMounts.release(name);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Files.exists(instance)) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the " + fsType + " file system on " + loop.device()
                        + " stays mounted after it was unmounted"
                        + (copies.isEmpty()
                                ? ""
                                : " (copies in other mount namespaces: " + String.join(", ", copies) + ")")
                        + ": the next state cannot be mounted afresh");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + loop.device() + " to be unmounted");
            }
        }
    }

    /** Drops the loop device's buffer cache (nothing is dirty: the file system is unmounted). */
    public void dropCaches() throws IOException {
        loop.flushBuffers();
    }

    @Override
    public void close() throws IOException {
        List<String> problems = new ArrayList<>();
        try {
            unmount();
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        try {
            loop.detach();
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        try {
            fuse.stop();
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new IOException(String.join("; ", problems));
        }
    }
}
