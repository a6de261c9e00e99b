package dev.faultdisk.explore;

import java.io.IOException;
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
 * <p>Mounts go through {@link FileSystemMount}, which never lets a mount take over a live
 * instance of an earlier one.
 */
public final class LoopDisk implements AutoCloseable {
    private final Nbdfuse fuse;
    private final LoopDevice loop;
    private FileSystemMount mounted;

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
        mounted = FileSystemMount.mount(loop.device(), mnt, fsType, options);
    }

    /** Mounts the device at {@code mnt}; the result says whether it worked and why not. */
    Proc.Result tryMount(Path mnt, String fsType, String options, Duration timeout) throws IOException {
        FileSystemMount.Attempt a = FileSystemMount.attempt(loop.device(), mnt, fsType, options, timeout);
        mounted = a.mount().orElse(null);
        return a.result();
    }

    /** Unmounts what {@link #mount} mounted (lazily if it stays busy), and waits until its instance is gone. */
    public void unmount() throws IOException {
        if (mounted == null) {
            return;
        }
        FileSystemMount m = mounted;
        m.unmount();
        mounted = null;
        m.awaitNoInstance();
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
