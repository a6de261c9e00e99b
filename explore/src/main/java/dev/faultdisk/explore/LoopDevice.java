package dev.faultdisk.explore;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A loop device bound to a file (an export's nbdfuse file), and let go of again. */
public final class LoopDevice {
    private static final Duration STEP = Duration.ofSeconds(60);

    /** How the loop device reads its file. */
    public enum Option {
        /**
         * Reads bypass the page cache of the file: after the server changes the data underneath
         * (a crash state, a revert), nothing stale is read from there.
         */
        DIRECT_IO,
        /**
         * No read-ahead below the file system (the FUSE file's, set before the loop device opens
         * it, and the loop device's), which would read neighbouring blocks, those of other files,
         * in the same request: each request the server sees then holds blocks of one file only.
         */
        NO_READ_AHEAD
    }

    private final String device;
    private final String file;

    private LoopDevice(String device, String file) {
        this.device = device;
        this.file = file;
    }

    /** The loop device {@code device} that an earlier command bound to {@code file}. */
    public static LoopDevice of(String device, Path file) {
        return new LoopDevice(device, file.toString());
    }

    /**
     * Binds a free loop device to {@code file}. {@link Option#NO_READ_AHEAD} turns off the loop
     * device's read-ahead only: the file's own is its owner's ({@link Nbdfuse#readAheadOff}).
     */
    public static LoopDevice bind(Path file, Set<Option> options) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("losetup", "-f", "--show"));
        if (options.contains(Option.DIRECT_IO)) {
            cmd.add("--direct-io=on");
        }
        cmd.add(file.toString());
        String device;
        synchronized (LoopDevice.class) { // threads binding at once must not race for the same free device
            device = Proc.check(STEP, cmd.toArray(String[]::new)).stdout().strip();
        }
        if (!device.startsWith("/dev/loop")) {
            throw new IOException("losetup printed '" + device + "' for " + file);
        }
        LoopDevice loop = new LoopDevice(device, backingFile(device).orElse(file.toString()));
        if (options.contains(Option.NO_READ_AHEAD)) {
            try {
                Proc.check(STEP, "blockdev", "--setra", "0", device);
            } catch (IOException e) {
                try {
                    loop.detach();
                } catch (IOException d) {
                    e.addSuppressed(d);
                }
                throw e;
            }
        }
        return loop;
    }

    /** The device's path, {@code /dev/loopN}. */
    public String device() {
        return device;
    }

    /** True while the device is bound to this file (the kernel's name for it, when bound here). */
    public boolean isBound() {
        return backingFile(device).filter(file::equals).isPresent();
    }

    /** Drops the device's buffer cache (the caller makes sure nothing is dirty: nothing is mounted). */
    public void flushBuffers() throws IOException {
        Proc.check(STEP, "blockdev", "--flushbufs", device);
    }

    /**
     * Lets go of the device, trying for up to 5 s: a lazily unmounted file system lets go of it a
     * little later. Fails if it stays bound.
     */
    public void detach() throws IOException {
        String last = "";
        for (int attempt = 0; attempt < 50 && isBound(); attempt++) {
            last = Proc.run(STEP, List.of("losetup", "-d", device)).message();
            if (isBound()) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while detaching " + device);
                }
            }
        }
        if (isBound()) {
            throw new IOException("loop device " + device + " stays bound" + (last.isEmpty() ? "" : ": " + last));
        }
    }

    /** The file the kernel says loop device {@code device} is bound to; empty if it is free (or unknown). */
    public static Optional<String> backingFile(String device) {
        Path sys = Path.of("/sys/block", Path.of(device).getFileName().toString(), "loop", "backing_file");
        try {
            return Files.exists(sys) ? Optional.of(Files.readString(sys).strip()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
