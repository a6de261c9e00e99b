package dev.faultdisk.explore;

import dev.faultdisk.filemap.MountSource;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A file system mounted from a block device, for every command that mounts a disk under test
 * (explore, campaigns, attach and detach).
 *
 * <p>A mount never takes over a live instance of the file system: an unmount must end the file
 * system's instance in the kernel, or the next mount of the device would take that live instance
 * over, with everything it cached of the previous state, instead of reading the new one (and
 * replaying its journal). Another program can keep it alive: one that makes a mount namespace
 * while a state is mounted (unshare, {@code ip netns exec}) gets a copy of the mount, and where
 * mounts do not propagate (a private root, as in most containers) the copy outlives our unmount.
 * So before each mount, such copies are unmounted too and the old instance is waited for, or the
 * mount fails.
 */
public final class FileSystemMount {
    private static final Duration STEP = Duration.ofSeconds(60);
    private static final Duration INSTANCE_GONE = Duration.ofSeconds(10);

    private final String device;
    private final Path point;
    private final String type;

    private FileSystemMount(String device, Path point, String type) {
        this.device = device;
        this.point = point;
        this.type = type;
    }

    /** One mount's outcome: mount's result, and the mount if it worked. */
    public record Attempt(Proc.Result result, Optional<FileSystemMount> mount) {}

    /** A mount made earlier (by an earlier command) of {@code device}'s {@code type} file system at {@code point}. */
    public static FileSystemMount of(String device, Path point, String type) {
        return new FileSystemMount(device, point, type);
    }

    /** Mounts {@code device}'s {@code type} file system at {@code point} (created), or fails with mount's message. */
    public static FileSystemMount mount(String device, Path point, String type, String options) throws IOException {
        Attempt a = attempt(device, point, type, options, STEP);
        Proc.Result r = a.result();
        return a.mount()
                .orElseThrow(() -> new IOException("cannot mount " + device + " at " + point + ": "
                        + (r.timedOut() ? "timed out; " : "") + r.message()));
    }

    /**
     * Mounts as {@link #mount} does within {@code timeout}; a mount that went through after its
     * timeout is taken down again at once.
     */
    public static Attempt attempt(String device, Path point, String type, String options, Duration timeout)
            throws IOException {
        Files.createDirectories(point);
        FileSystemMount m = new FileSystemMount(device, point, type);
        m.awaitNoInstance();
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", type));
        if (options != null && !options.isEmpty()) {
            cmd.addAll(List.of("-o", options));
        }
        cmd.addAll(List.of(device, point.toString()));
        Proc.Result r = Proc.run(timeout, cmd);
        if (r.ok()) {
            return new Attempt(r, Optional.of(m));
        }
        if (MountSource.isMountPoint(point)) { // timed out after all
            m.unmount();
        }
        return new Attempt(r, Optional.empty());
    }

    /** Lazily unmounts whatever is mounted at {@code point} now (left there by a run that did not end). */
    public static void clear(Path point) throws IOException {
        if (MountSource.isMountPoint(point)) {
            Proc.run(STEP, List.of("umount", "-l", point.toString()));
        }
    }

    /**
     * Unmounts; lazily if the file system stays busy (a disk that lost its power fails every
     * write, so umount may fail). Returns why it had to be lazy, or empty; fails if even the lazy
     * unmount leaves it mounted. A lazy unmount leaves the instance alive while it is busy: the
     * next {@link #attempt} waits for it.
     */
    public Optional<String> unmount() throws IOException {
        if (!MountSource.isMountPoint(point)) {
            return Optional.empty();
        }
        Proc.Result r = Proc.run(STEP, List.of("umount", point.toString()));
        if (r.ok() || !MountSource.isMountPoint(point)) {
            return Optional.empty();
        }
        Proc.Result lazy = Proc.run(STEP, List.of("umount", "-l", point.toString()));
        if (!lazy.ok() && MountSource.isMountPoint(point)) {
            throw new IOException("cannot unmount " + point + ": " + r.message() + "; lazily: " + lazy.message());
        }
        return Optional.of("lazy unmount of " + point + " (" + r.message() + ")");
    }

    /**
     * Returns once no instance of this file system lives on the device: copies of its mount in
     * other mount namespaces are unmounted (lazily, in their namespace); fails if it stays alive
     * all the same (a program there holds a file open on it).
     */
    public void awaitNoInstance() throws IOException {
        String name = Path.of(device).getFileName().toString();
        Path instance = Path.of("/sys/fs", type, name);
        if (!Files.exists(instance)) {
            return;
        }
        List<String> copies = ForeignMounts.release(name);
        long deadline = System.nanoTime() + INSTANCE_GONE.toNanos();
        while (Files.exists(instance)) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the " + type + " file system on " + device
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
                throw new InterruptedIOException("interrupted while waiting for " + device + " to be unmounted");
            }
        }
    }
}
