package dev.faultdisk.device;

import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A raw image file, read and written with positional FileChannel I/O so requests run in parallel.
 * Trim and write-zeroes punch holes where the file system allows, so sparse files stay sparse;
 * extents come from SEEK_DATA/SEEK_HOLE.
 */
public final class FileDevice implements BlockDevice {
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();
    /** The image of each open channel, for a frontend that reads {@link #readSource} by a descriptor of its own. */
    private static final Map<FileChannel, Path> PATHS = Collections.synchronizedMap(new WeakHashMap<>());

    private final Path path;
    private final FileChannel channel;
    /** What {@link #readSource} offers: the channel. */
    private final ReadSource.File source;

    private final boolean readOnly;
    private final long size;
    private final int controlFd;
    /**
     * The image's runs of data, learnt as reads need them (a dense image's one run at open): a
     * large read wholly inside one may go out straight from the file ({@link #readSource}).
     */
    private final DataRuns dataRuns;
    /** Set once fallocate's ZERO_RANGE failed where a punched hole worked: the file system has none. */
    private volatile boolean zeroRangeRefused;
    /** Held while the device is open: another faultdisk process may not write the image meanwhile. */
    private final ImageLock lock;
    /** Writes, trims and zeroings made through this device ({@link #readVersion}). */
    private final ChangeCount changes = new ChangeCount();
    /** Large writes' order once many are at the file at once. */
    private final WriteTurns turns;

    private FileDevice(Path path, FileChannel channel, boolean readOnly, long size, int controlFd, ImageLock lock) {
        this.lock = lock;
        this.path = path;
        this.channel = channel;
        this.source = new ReadSource.File(channel);
        this.readOnly = readOnly;
        this.size = size;
        this.controlFd = controlFd;
        this.dataRuns = new DataRuns(controlFd);
        dataRuns.allData(0, size); // a dense image is one run, known from the start
        this.turns = new WriteTurns(Files.isRegularFile(path));
        PATHS.put(channel, path);
    }

    /** The image file a channel from {@link #readSource} reads, or null if it is not one of these. */
    public static Path pathOf(FileChannel channel) {
        return PATHS.get(channel);
    }

    /**
     * Opens an image. If it is missing and {@code createSize} is at least 0, creates it sparse with
     * that size; if it exists and {@code createSize} is larger, it is extended (sparse).
     */
    public static FileDevice open(Path path, long createSize, boolean readOnly) throws IOException {
        return open(path, createSize, readOnly, true);
    }

    /**
     * As above; {@code locking}: the image is locked while open ({@link ImageLock}), so that no
     * other faultdisk process writes an image this one serves, nor serves one this one writes.
     */
    public static FileDevice open(Path path, long createSize, boolean readOnly, boolean locking) throws IOException {
        if (!Files.exists(path)) {
            refuseMissing(path, createSize, readOnly);
            try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
                raf.setLength(createSize); // ftruncate: sparse
            }
        }
        ImageLock lock = locking ? ImageLock.take(path, readOnly) : ImageLock.NONE; // before anything changes the image
        try {
            if (createSize > Files.size(path) && !readOnly) {
                try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
                    raf.setLength(createSize);
                }
            }
            FileChannel channel = readOnly
                    ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            long size = channel.size();
            int fd = readOnly ? LinuxFiles.openForControl(path) : LinuxFiles.openForWrite(path);
            return new FileDevice(path, channel, readOnly, size, fd, lock);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /**
     * The size {@link #open} would give the device, found without opening or creating anything;
     * fails as {@code open} would for a missing image it may not create.
     */
    public static long sizeOnOpen(Path path, long createSize, boolean readOnly) throws IOException {
        if (!Files.exists(path)) {
            refuseMissing(path, createSize, readOnly);
            return createSize;
        }
        long existing = Files.size(path);
        return readOnly ? existing : Math.max(existing, createSize);
    }

    private static void refuseMissing(Path path, long createSize, boolean readOnly) throws IOException {
        if (createSize < 0) {
            throw new IOException("image file " + path + " does not exist (add ,size=SIZE to create it)");
        }
        if (readOnly) {
            throw new IOException("image file " + path + " does not exist and the export is read-only");
        }
    }

    /** Its large writes' turns (tests hold one to see a write wait for it). */
    WriteTurns turns() {
        return turns;
    }

    public Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public void read(BlockRequest r, ByteBuffer dst) throws IOException {
        readFully(channel, dst, r.offset());
    }

    /**
     * Reads {@code dst} full from {@code file} at {@code offset}, as this backend reads its image
     * (also for frontends reading a file a stack handed out, {@link BlockDevice#readSource}).
     */
    public static void readFully(FileChannel file, ByteBuffer dst, long offset) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = file.read(dst, pos);
            if (n < 0) {
                // The file shrank underneath us: what lies past its end reads as zeroes.
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            pos += n;
        }
    }

    /**
     * The image itself when the read lies wholly in a run of data. A read that touches a hole is read the usual way: it finds zeroes a frontend may answer with a hole
     * instead of the bytes, and on tmpfs a read through a mapping would allocate the hole.
     */
    @Override
    public ReadSource readSource(BlockRequest r) {
        return dataRuns.allData(r.offset(), r.offset() + r.length()) ? source : null;
    }

    @Override
    public void write(BlockRequest r, ByteBuffer src) throws IOException {
        refuseIfReadOnly();
        int turn = turns.begin(src.remaining());
        changes.begin();
        try {
            long pos = r.offset();
            while (src.hasRemaining()) {
                pos += channel.write(src, pos);
            }
        } finally {
            changes.end();
            turns.end(turn);
        }
        if (r.fua()) {
            channel.force(false);
        }
    }

    /** Through the descriptor opened for hole punching, which is open for writing. */
    @Override
    public boolean writeStaged(BlockRequest r, StagedPayload payload) throws IOException {
        if (readOnly || controlFd < 0) {
            return false;
        }
        int turn = turns.begin(r.length());
        changes.begin();
        try {
            payload.writeTo(channel, controlFd, r.offset());
        } finally {
            changes.end();
            turns.end(turn);
        }
        if (r.fua()) {
            channel.force(false);
        }
        return true;
    }

    @Override
    public void flush(BlockRequest r) throws IOException {
        channel.force(false);
    }

    @Override
    public void trim(BlockRequest r) throws IOException {
        refuseIfReadOnly();
        // Trim is a hint: punch where possible, otherwise leave the data (the spec allows it).
        dataRuns.forget(r.offset(), r.offset() + r.length());
        boolean punched;
        changes.begin();
        try {
            punched = LinuxFiles.punchHole(controlFd, r.offset(), r.length());
        } finally {
            changes.end();
        }
        if (punched && r.fua()) {
            channel.force(false);
        }
    }

    @Override
    public void writeZeroes(BlockRequest r) throws IOException {
        refuseIfReadOnly();
        // Whatever way it zeroes, the range may be a hole for a while (a punch, then an allocation).
        dataRuns.forget(r.offset(), r.offset() + r.length());
        changes.begin();
        try {
            zero(r);
        } finally {
            changes.end();
        }
    }

    private void zero(BlockRequest r) throws IOException {
        long offset = r.offset();
        long length = r.length();
        if (!r.has(BlockRequest.Flag.NO_HOLE) && LinuxFiles.punchHole(controlFd, offset, length)) {
            if (r.fua()) {
                channel.force(false);
            }
            return;
        }
        // Kept allocated without a byte written, as nbdkit's file plugin and qemu-nbd zero: writing
        // zeroes took 17 times as long for 1 GiB (docs/BENCHMARKS.md).
        if (zeroInPlace(offset, length)) {
            if (r.fua()) {
                channel.force(false);
            }
            return;
        }
        if (r.has(BlockRequest.Flag.FAST_ZERO)) {
            throw new DeviceException(Errno.ENOTSUP, "zeroing this range is not faster than writing");
        }
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            ByteBuffer zeroes = ZEROES.duplicate();
            zeroes.limit((int) Math.min(zeroes.capacity(), end - pos));
            while (zeroes.hasRemaining()) {
                pos += channel.write(zeroes, pos);
            }
        }
        if (r.fua()) {
            channel.force(false);
        }
    }

    /**
     * Zeroes a range in place ({@link LinuxFiles#zeroRange}, else {@link
     * LinuxFiles#punchAndAllocate}). What it leaves reads as a hole to SEEK_HOLE (ext4, XFS, tmpfs):
     * {@link #writeZeroes} has forgotten the runs of data over it, as for a punched hole.
     */
    private boolean zeroInPlace(long offset, long length) {
        if (!zeroRangeRefused && LinuxFiles.zeroRange(controlFd, offset, length)) {
            return true;
        }
        if (LinuxFiles.punchAndAllocate(controlFd, offset, length)) {
            // This file system has no ZERO_RANGE (tmpfs): not asked again, as nbdkit's file plugin
            // remembers (a failed call a request cost a quarter of its zeroes' speed).
            zeroRangeRefused = true;
            return true;
        }
        return false;
    }

    @Override
    public long readVersion(BlockRequest r) {
        return changes.get();
    }

    @Override
    public void extents(BlockRequest r, ExtentSink sink) throws IOException {
        long end = Math.min(size, r.offset() + r.length());
        long pos = r.offset();
        while (pos < end) {
            long data = LinuxFiles.seekData(controlFd, pos);
            if (controlFd < 0 || (data < 0 && !LinuxFiles.available())) {
                sink.accept(end - pos, 0);
                return;
            }
            if (data < 0 || data >= end) {
                // No data up to the end of the range (ENXIO past the last data).
                sink.accept(end - pos, ExtentSink.HOLE | ExtentSink.ZERO);
                return;
            }
            if (data > pos) {
                if (!sink.accept(data - pos, ExtentSink.HOLE | ExtentSink.ZERO)) {
                    return;
                }
                pos = data;
            }
            long hole = LinuxFiles.seekHole(controlFd, pos);
            long dataEnd = hole < 0 ? end : Math.min(end, hole);
            if (dataEnd <= pos) {
                dataEnd = end;
            }
            if (!sink.accept(dataEnd - pos, 0)) {
                return;
            }
            pos = dataEnd;
        }
    }

    /** A read-only channel would throw an unchecked exception; callers expect an errno. */
    private void refuseIfReadOnly() throws DeviceException {
        if (readOnly) {
            throw new DeviceException(Errno.EPERM, "image " + path + " is open read-only");
        }
    }

    @Override
    public String describe() {
        return "file " + path + ", " + Sizes.format(size) + (readOnly ? ", read-only" : "");
    }

    @Override
    public void close() throws IOException {
        changes.bump(); // a read done ahead of its delay is done again, and fails as it would have
        try {
            if (!readOnly) {
                channel.force(true);
            }
        } finally {
            channel.close();
            Libc.close(controlFd);
            lock.close();
        }
    }
}
