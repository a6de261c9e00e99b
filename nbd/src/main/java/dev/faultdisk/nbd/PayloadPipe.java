package dev.faultdisk.nbd;

import dev.faultdisk.device.Libc;
import dev.faultdisk.device.StagedPayload;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * A connection's pipe for large write payloads: the payload moves from the socket into the pipe
 * (splice: the kernel hands over its pages), and from the pipe into the image file where no layer
 * needs its bytes ({@link dev.faultdisk.device.BlockDevice#writeStaged}): one copy of the data in
 * the server where reading it into a buffer and writing that makes two. The whole payload is
 * received before any byte reaches the file, so a client that goes away mid-payload changes
 * nothing, as on the buffered path; and before the request enters the stack, so a slow client
 * never holds a layer's lock (the power switch) while its bytes trickle in.
 *
 * <p>Only for a plain TCP connection read by a platform thread from a non-blocking socket (a
 * wait here blocks its thread). Holds a duplicate of the socket's descriptor and a pipe of at most
 * {@value #CAPACITY} bytes while the connection lives. {@code -Dfaultdisk.nbd.spliceWrites=false}
 * turns it off.
 */
final class PayloadPipe implements StagedPayload {
    /** Writes smaller than this are buffered: the buffered path's copy costs less than the calls. */
    static final int MIN_LENGTH = Integer.getInteger("faultdisk.nbd.spliceMinBytes", 256 * 1024);
    /** The pipe's capacity asked for: the largest payload it takes (the system's default maximum). */
    static final int CAPACITY = 1 << 20;

    private static final boolean ENABLED =
            Boolean.parseBoolean(System.getProperty("faultdisk.nbd.spliceWrites", "true"));
    /**
     * The socket's receive low-water mark while a large write is received (the bytes still to come,
     * at most this) and written (this): 0 leaves it alone. Below the mark the kernel acknowledges
     * each segment as it comes, where it would otherwise wait for the reader to read; a reader
     * that takes a payload whole and then copies it leaves the next one unread meanwhile, and a
     * sender whose congestion control paces its sends by the acknowledgements (BBR) slowed down;
     * with cubic the extra acknowledgements cost one connection's writes more than they gave
     * (docs/BENCHMARKS.md). So by default it is {@link #BBR_LOW_WATER} where the machine's own
     * congestion control, which its local clients use, is BBR, else 0; {@code
     * -Dfaultdisk.nbd.payloadLowWater=BYTES} fixes it.
     */
    static final int LOW_WATER = lowWaterDefault();
    /**
     * The mark under BBR: more than the requests a client keeps queued behind the payload being
     * written (fio's eight 1 MiB writes a connection): at 1 MiB four connections' queues waited
     * unacknowledged for their readers, their writes to a memory export 0.85-1.02 of nbdkit's
     * throughput, 1.10-1.15 at this (docs/BENCHMARKS.md). The kernel caps it at half its largest
     * receive buffer (net.ipv4.tcp_rmem).
     */
    static final int BBR_LOW_WATER = 16 << 20;

    /** How long one wait for the socket lasts before the connection is checked again. */
    private static final int POLL_MILLIS = 100;

    /** Whether the connection is still open: a wait for the socket gives up once it is not. */
    private final BooleanSupplier open;

    private final LinuxPipes calls = new LinuxPipes();
    private final int socket;
    /** The pipe, or null while there is none. */
    private Ends ends;
    /** The payload's first bytes, which arrived with its header into the connection's buffer. */
    private ByteBuffer head;
    /** Payload bytes in the pipe. */
    private long held;
    /** The socket's receive low-water mark is raised (for a payload; {@link #discard} sets it back). */
    private boolean lowered;

    /** The low-water mark this pipe raises for a payload (see {@link #LOW_WATER}); 0: none. */
    private final int lowWaterBytes;

    private PayloadPipe(BooleanSupplier open, int socket, int lowWater) {
        this.lowWaterBytes = lowWater;
        this.open = open;
        this.socket = socket;
    }

    /** The connection's pipe, or null where splicing cannot be used (see the class comment). */
    static PayloadPipe open(SocketChannel channel, BooleanSupplier open) {
        return open(channel, open, LOW_WATER);
    }

    /** As {@link #open(SocketChannel, BooleanSupplier)}, raising the receive low-water mark to {@code lowWater} (tests). */
    static PayloadPipe open(SocketChannel channel, BooleanSupplier open, int lowWater) {
        if (!ENABLED || !LinuxPipes.available() || channel == null) {
            return null;
        }
        int fd = SocketDescriptors.duplicateTcp(channel);
        if (fd < 0) {
            return null;
        }
        PayloadPipe pipe = new PayloadPipe(open, fd, lowWater);
        try {
            if (pipe.calls.nonBlocking(fd) && pipe.ensurePipe()) {
                return pipe;
            }
        } catch (IOException e) {
            // no pipe: the connection goes without
        }
        pipe.close();
        return null;
    }

    /** Whether a write of {@code length} bytes goes through the pipe, on this thread. */
    boolean fits(long length) {
        return ends != null
                && length >= MIN_LENGTH
                && length <= ends.capacity()
                && !Thread.currentThread().isVirtual();
    }

    /**
     * Receives a payload of {@code length} bytes: what {@code in} (the connection's input buffer)
     * holds of it, then the rest from the socket into the pipe. True when the whole payload is held; false when the pipe
     * filled first (a payload sent in many small pieces takes a pipe slot per piece): then {@link
     * #drainInto} gives what was received and the caller reads the rest from the connection.
     *
     * @throws EOFException if the client closed the connection mid-payload (nothing was written)
     */
    boolean receive(ByteBuffer in, int length) throws IOException {
        int buffered = Math.min(in.remaining(), length);
        head = in.duplicate().limit(in.position() + buffered);
        in.position(in.position() + buffered);
        held = 0;
        long rest = (long) length - buffered;
        while (held < rest) {
            long n = calls.splice(socket, ends.write(), -1, rest - held);
            if (n > 0) {
                held += n;
            } else if (n == 0) {
                throw new EOFException("client closed the connection mid-payload");
            } else if (!calls.await(ends.write(), true, 0)) {
                lowWater(1); // the caller reads the rest the usual way, with polls of its own
                return false; // the pipe is full
            } else {
                lowWater((int) Math.min(rest - held, lowWaterBytes));
                if (!calls.await(socket, false, POLL_MILLIS) && !open.getAsBoolean()) {
                    throw new ClosedChannelException();
                }
            }
        }
        lowWater(lowWaterBytes);
        return true;
    }

    /**
     * Waits until {@code bytes} of a payload read from the socket rather than spliced (into a
     * memory export's pages), or the mark's worth of them, wait in the socket, the receive
     * low-water mark raised meanwhile as for a spliced payload ({@link #LOW_WATER}); returns at
     * once where the mark is 0 or the reader is a virtual thread. Nothing is read here: the
     * caller then reads what waits.
     */
    void awaitQueued(int bytes) throws IOException {
        int want = Math.min(bytes, lowWaterBytes);
        if (want <= 1 || Thread.currentThread().isVirtual()) {
            return;
        }
        lowWater(want);
        try {
            while (!calls.await(socket, false, POLL_MILLIS)) {
                if (!open.getAsBoolean()) {
                    throw new ClosedChannelException();
                }
            }
        } finally {
            lowWater(1);
        }
    }

    /**
     * Sets the socket's receive low-water mark to {@code bytes}, or back to 1 (the default) for 1 or
     * less: a poll waits for that many bytes, so it must be 1 again before the reader waits for a
     * request of its own, and never more than what is still to come of the payload.
     */
    private void lowWater(int bytes) {
        if (lowWaterBytes == 0) {
            return;
        }
        if (bytes > 1) {
            lowered = calls.lowWater(socket, bytes) || lowered;
        } else if (lowered) {
            lowered = !calls.lowWater(socket, 1);
        }
    }

    /** The pipe's bytes after the buffered head; the head last, so the pipe is spent first. */
    @Override
    public void writeTo(FileChannel file, int fd, long offset) throws IOException {
        long at = offset + head.remaining();
        while (held > 0) {
            long n;
            try {
                n = calls.splice(ends.read(), fd, at, held);
            } catch (IOException e) {
                n = -1; // a file system without splice, or a real failure: the copy below tells which
            }
            if (n <= 0) {
                copyRest(file, at);
                break;
            }
            held -= n;
            at += n;
        }
        writeFully(file, head, offset);
    }

    /** Puts what was received of the payload (head, then the pipe's bytes) into {@code dst} (direct). */
    void drainInto(ByteBuffer dst) throws IOException {
        dst.put(head);
        readPipe(dst);
    }

    @Override
    public void readInto(ByteBuffer dst) throws IOException {
        int fromHead = Math.min(head.remaining(), dst.remaining());
        dst.put(dst.position(), head, head.position(), fromHead);
        head.position(head.position() + fromHead);
        dst.position(dst.position() + fromHead);
        if (dst.remaining() > held) {
            throw new IOException("asked for " + dst.remaining() + " bytes of a payload with " + held + " left");
        }
        readPipe(dst);
    }

    /** Writes what the pipe holds at {@code at} of {@code file} the buffered way. */
    private void copyRest(FileChannel file, long at) throws IOException {
        ByteBuffer rest = BufferPool.SHARED.acquire((int) held);
        try {
            rest.clear().limit((int) held);
            readPipe(rest);
            writeFully(file, rest.flip(), at);
        } finally {
            BufferPool.SHARED.release(rest);
        }
    }

    private static void writeFully(FileChannel file, ByteBuffer src, long at) throws IOException {
        long pos = at;
        while (src.hasRemaining()) {
            pos += file.write(src, pos);
        }
    }

    /** Reads the pipe into {@code dst} until the one is empty or the other full. */
    private void readPipe(ByteBuffer dst) throws IOException {
        while (held > 0 && dst.hasRemaining()) {
            MemorySegment to = MemorySegment.ofBuffer(dst);
            long n = calls.read(ends.read(), to, Math.min(held, dst.remaining()));
            if (n <= 0) {
                discard();
                throw new IOException("pipe ended early");
            }
            held -= n;
            dst.position(dst.position() + (int) n);
        }
    }

    /**
     * Forgets a payload no layer wrote: the pipe is replaced, the bytes it held dropped. Called
     * after every write that used the pipe, written or not: the low-water mark goes back to 1.
     */
    void discard() {
        lowWater(1);
        if (held > 0) {
            closePipe();
            try {
                ensurePipe();
            } catch (IOException e) {
                ends = null; // no pipe: later writes are buffered
            }
        }
        held = 0;
    }

    /** Closes the pipe and the socket's duplicate descriptor (the reader's end of the connection). */
    void close() {
        closePipe();
        Libc.close(socket);
    }

    /** Makes a new pipe; false (and none) if the system will not give it room for a large payload. */
    private boolean ensurePipe() throws IOException {
        int[] fds = calls.pipe();
        ends = new Ends(fds[0], fds[1], calls.resize(fds[1], CAPACITY));
        held = 0;
        if (ends.capacity() < MIN_LENGTH) {
            closePipe();
            return false;
        }
        return true;
    }

    private void closePipe() {
        if (ends != null) {
            Libc.close(ends.read());
            Libc.close(ends.write());
            ends = null;
        }
    }

    /** {@link #BBR_LOW_WATER} where the machine's congestion control is BBR (or the property's bytes), else 0. */
    private static int lowWaterDefault() {
        Integer asked = Integer.getInteger("faultdisk.nbd.payloadLowWater");
        if (asked != null) {
            return Math.max(0, asked);
        }
        try {
            String control = Files.readString(Path.of("/proc/sys/net/ipv4/tcp_congestion_control"));
            return control.strip().startsWith("bbr") ? BBR_LOW_WATER : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** A pipe's two descriptors and the bytes it holds at most. */
    private record Ends(int read, int write, int capacity) {}
}
