package dev.faultdisk.nbd;

import dev.faultdisk.device.FileDevice;
import dev.faultdisk.device.Libc;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Reads of one connection that no layer needs, done through io_uring
 * ({@code -Dfaultdisk.nbd.fileReads=uring}): a read is queued with its place in the reply buffer
 * instead of read at once, and when the buffer is flushed, every queued read and the send of the
 * buffer go to the kernel as one linked chain in one system call, where the usual path makes a
 * pread per request and a write per batch. The send never waits for room ({@code MSG_DONTWAIT}):
 * what the socket does not take goes out through the channel as any reply does, so a client that
 * stops reading holds the connection's writer as it would without io_uring, and closing the
 * channel frees it. Used under the reply writer's lock only.
 */
final class UringReads implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(UringReads.class.getName());
    private static final Cleaner CLEANER = Cleaner.create();
    /** Submission entries: the reads of one reply buffer and its send. */
    static final int ENTRIES = 64;

    private static final long SEND = -1;

    private final SocketChannel channel;
    private final Resources resources;
    private final Cleaner.Cleanable cleanable;

    private final FileChannel[] sources = new FileChannel[ENTRIES];
    private final int[] fds = new int[ENTRIES];
    private final long[] offsets = new long[ENTRIES];
    private final int[] positions = new int[ENTRIES];
    private final int[] lengths = new int[ENTRIES];
    private final int[] results = new int[ENTRIES];
    private final IoUring.Completions completions = this::completed;
    private int count;
    private int sendResult;

    private ByteBuffer addressOf;
    private long address;

    /** What is closed when the connection ends, or when it is collected without having closed it. */
    private static final class Resources implements Runnable {
        final IoUring ring;
        final int socket;
        final IdentityHashMap<FileChannel, Integer> files = new IdentityHashMap<>();
        final List<Integer> opened = new ArrayList<>();

        Resources(IoUring ring, int socket) {
            this.ring = ring;
            this.socket = socket;
        }

        @Override
        public void run() {
            ring.close();
            Libc.close(socket);
            opened.forEach(Libc::close);
        }
    }

    private UringReads(SocketChannel channel, IoUring ring, int socket) {
        this.channel = channel;
        this.resources = new Resources(ring, socket);
        this.cleanable = CLEANER.register(this, resources);
    }

    /**
     * Why this process cannot use io_uring, or null if it can: asked of the kernel once (a ring
     * made and closed), and said once in the log either way.
     */
    static String unavailable() {
        return Probe.REFUSAL;
    }

    /** The kernel's answer, found on first use. */
    private static final class Probe {
        static final String REFUSAL = probe();

        private static String probe() {
            try (IoUring ring = IoUring.open(2)) {
                LOG.log(Level.INFO, "reads through io_uring (-Dfaultdisk.nbd.fileReads=uring)");
                return null;
            } catch (IOException e) {
                LOG.log(
                        Level.WARNING,
                        "-Dfaultdisk.nbd.fileReads=uring: {0}; reads are copied instead (fileReads=copy)",
                        e.getMessage());
                return e.getMessage();
            }
        }
    }

    /**
     * io_uring reads for a connection on {@code channel}, made when it first reads this way (an
     * idle connection holds no ring), or null if the kernel refuses this ring (then its reads are
     * done at once).
     */
    static UringReads open(SocketChannel channel) {
        IoUring ring;
        try {
            ring = IoUring.open(ENTRIES);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "io_uring refused for a connection, its reads are done at once: {0}", e.getMessage());
            return null;
        }
        int socket = SocketDescriptors.duplicateTcp(channel);
        if (socket < 0) {
            LOG.log(Level.DEBUG, "io_uring reads of a connection sent through its channel: no TCP descriptor for it");
        }
        return new UringReads(channel, ring, socket);
    }

    /**
     * Reads {@code length} bytes of {@code source} at {@code offset} into {@code out} at
     * {@code position}: queued until {@link #complete}, or now if there is no room in the ring or
     * no descriptor for the file (zeroes past its end, as the file backend reads). True if queued.
     */
    boolean read(FileChannel source, ByteBuffer out, int position, int length, long offset) throws IOException {
        int fd = descriptor(source);
        if (fd < 0 || count == ENTRIES - 1) {
            readNow(source, out, position, length, offset);
            return false;
        }
        sources[count] = source;
        fds[count] = fd;
        offsets[count] = offset;
        positions[count] = position;
        lengths[count] = length;
        count++;
        return true;
    }

    boolean pending() {
        return count > 0;
    }

    /**
     * Completes the queued reads into {@code out}, and sends its first {@code send} bytes (if
     * more than 0 and the socket's descriptor is known) in the same system call; returns how many
     * bytes were sent, which may be none (the socket was full). A read that failed or came short
     * in the ring is done again with the channel; if that fails too, the replies can no longer be
     * made right and the connection is closed.
     */
    int complete(ByteBuffer out, int send) throws IOException {
        long base = address(out);
        boolean sending = send > 0 && resources.socket >= 0;
        IoUring ring = resources.ring;
        for (int i = 0; i < count; i++) {
            byte link = sending ? IoUring.LINK : 0; // a chain only to hold the send back until every read is done
            ring.prepare(IoUring.OP_READ, link, fds[i], base + positions[i], lengths[i], offsets[i], 0, i);
        }
        if (sending) {
            ring.prepare(IoUring.OP_SEND, (byte) 0, resources.socket, base, send, 0, IoUring.MSG_DONTWAIT, SEND);
        }
        sendResult = 0;
        int n = count;
        count = 0;
        try {
            ring.submitAndWait(completions);
            for (int i = 0; i < n; i++) {
                int done = Math.max(results[i], 0);
                if (done < lengths[i]) {
                    readNow(sources[i], out, positions[i] + done, lengths[i] - done, offsets[i] + done);
                }
                sources[i] = null;
            }
        } catch (IOException | RuntimeException e) {
            channel.close(); // replies already announced cannot be answered any more
            throw e;
        }
        if (!sending || sendResult == -Libc.EAGAIN || sendResult == -IoUring.ECANCELED) {
            return 0;
        }
        if (sendResult < 0) {
            throw new IOException("send through io_uring: errno " + -sendResult);
        }
        return sendResult;
    }

    private void completed(long userData, int result) {
        if (userData == SEND) {
            sendResult = result;
        } else {
            results[(int) userData] = result;
        }
    }

    // The same buffer object, not equal content: ByteBuffer.equals compares the bytes.
    @SuppressWarnings("ReferenceEquality")
    private long address(ByteBuffer out) {
        if (out != addressOf) {
            address = MemorySegment.ofBuffer(out).address() - out.position();
            addressOf = out;
        }
        return address;
    }

    private int descriptor(FileChannel source) {
        Integer fd = resources.files.get(source);
        if (fd == null) {
            Path path = FileDevice.pathOf(source);
            fd = path == null ? -1 : Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
            resources.files.put(source, fd);
            if (fd >= 0) {
                resources.opened.add(fd);
            }
        }
        return fd;
    }

    static void readNow(FileChannel source, ByteBuffer out, int position, int length, long offset) throws IOException {
        ByteBuffer b = out.duplicate().limit(position + length).position(position);
        while (b.hasRemaining()) {
            if (source.read(b, offset + b.position() - position) < 0) {
                while (b.hasRemaining()) {
                    b.put((byte) 0); // the file shrank: past its end reads as zeroes
                }
            }
        }
    }

    @Override
    public void close() {
        count = 0;
        cleanable.clean();
    }
}
