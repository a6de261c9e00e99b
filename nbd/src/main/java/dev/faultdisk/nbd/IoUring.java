package dev.faultdisk.nbd;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.faultdisk.device.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One io_uring instance (Linux 5.6 or later) through raw system calls and the foreign function
 * API, no library: the submission and completion rings are mapped from the kernel, entries are
 * written straight into them, and one {@code io_uring_enter} submits a batch and waits for its
 * completions. Not thread-safe: the caller serialises its use (the connection's reply lock).
 * x86-64 and aarch64 only (the system call numbers are the same on both since 5.1).
 */
final class IoUring implements AutoCloseable {
    static final byte OP_READ = 22;
    static final byte OP_SENDMSG = 9;
    static final byte OP_SEND = 26;
    /** The next entry starts only after this one succeeded in full. */
    static final byte LINK = 4;

    static final int MSG_DONTWAIT = 0x40;
    static final int ECANCELED = 125;

    private static final long SYS_SETUP = 425;
    private static final long SYS_ENTER = 426;
    private static final int ENTER_GETEVENTS = 1;
    private static final int FEAT_SINGLE_MMAP = 1;
    private static final long OFF_SQ_RING = 0;
    private static final long OFF_CQ_RING = 0x8000000L;
    private static final long OFF_SQES = 0x10000000L;
    private static final int SQE_SIZE = 64;
    private static final int CQE_SIZE = 16;
    private static final int PARAMS_SIZE = 120;

    private static final VarHandle INT = JAVA_INT.varHandle();

    private static final MethodHandle SYSCALL = Libc.function(
            "syscall",
            FunctionDescriptor.of(
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Libc.ERRNO,
            Linker.Option.firstVariadicArg(1));
    /** Why io_uring cannot be used in this process, or null if it can be tried. */
    private static final String UNAVAILABLE = unavailable();

    private static String unavailable() {
        String arch = System.getProperty("os.arch", "");
        if (!System.getProperty("os.name", "")
                .toLowerCase(java.util.Locale.ROOT)
                .contains("linux")) {
            return "not Linux";
        }
        if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
            return "system call numbers not known for " + arch;
        }
        if (SYSCALL == null || !Libc.canMap()) {
            return "native access refused (libc's syscall, mmap and munmap are not callable here)";
        }
        return null;
    }

    private final int fd;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final long sqRingSize;
    private final long cqRingSize;
    private final long sqesSize;
    private final int sqTail;
    private final int sqMask;
    private final int cqHead;
    private final int cqTail;
    private final int cqMask;
    private final int cqes;
    private final int entries;
    private final MemorySegment errno;
    /** Entries written since the last submit. */
    private int queued;

    private boolean closed;

    private IoUring(int entries) throws IOException {
        Arena arena = Arena.ofAuto();
        this.errno = arena.allocate(Libc.CALL_STATE);
        MemorySegment p = arena.allocate(PARAMS_SIZE, 8);
        int ring = (int) call(SYS_SETUP, entries, p.address(), 0, 0, 0, 0);
        if (ring < 0) {
            throw new IOException("io_uring_setup: " + errnoName(-ring));
        }
        this.fd = ring;
        try {
            this.entries = p.get(JAVA_INT, 0);
            int cqEntries = p.get(JAVA_INT, 4);
            int features = p.get(JAVA_INT, 20);
            int sqOff = 40;
            int cqOff = 80;
            // sq_off.head (offset 0) is not kept: every submit waits for its completions, so the
            // kernel has consumed the whole queue before the next one is written.
            this.sqTail = p.get(JAVA_INT, sqOff + 4);
            int sqMaskAt = p.get(JAVA_INT, sqOff + 8);
            int sqArray = p.get(JAVA_INT, sqOff + 24);
            this.cqHead = p.get(JAVA_INT, cqOff);
            this.cqTail = p.get(JAVA_INT, cqOff + 4);
            int cqMaskAt = p.get(JAVA_INT, cqOff + 8);
            this.cqes = p.get(JAVA_INT, cqOff + 20);
            long sqSize = sqArray + 4L * this.entries;
            long cqSize = cqes + (long) CQE_SIZE * cqEntries;
            boolean single = (features & FEAT_SINGLE_MMAP) != 0;
            if (single) {
                sqSize = cqSize = Math.max(sqSize, cqSize);
            }
            this.sqRingSize = sqSize;
            this.sqRing = map(sqSize, OFF_SQ_RING);
            this.cqRingSize = single ? 0 : cqSize;
            this.cqRing = single ? sqRing : map(cqSize, OFF_CQ_RING);
            this.sqesSize = (long) SQE_SIZE * this.entries;
            this.sqes = map(sqesSize, OFF_SQES);
            this.sqMask = sqRing.get(JAVA_INT, sqMaskAt); // the parameters give where the masks are, not them
            this.cqMask = cqRing.get(JAVA_INT, cqMaskAt);
            for (int i = 0; i < this.entries; i++) {
                sqRing.set(JAVA_INT, sqArray + 4L * i, i); // entry i of the array names SQE i, always
            }
        } catch (IOException | RuntimeException e) {
            Libc.close(ring);
            throw e;
        }
    }

    /**
     * A ring of {@code entries} submission entries, or an exception saying why the kernel refused
     * it (disabled by {@code kernel.io_uring_disabled}, a seccomp filter, too old a kernel).
     */
    static IoUring open(int entries) throws IOException {
        if (UNAVAILABLE != null) {
            throw new IOException("io_uring unavailable: " + UNAVAILABLE);
        }
        String disabled = sysctlDisabled();
        if (disabled != null) {
            throw new IOException("io_uring disabled: " + disabled);
        }
        return new IoUring(entries);
    }

    /** Why {@code kernel.io_uring_disabled} forbids this process io_uring, or null if it does not (or is absent). */
    private static String sysctlDisabled() {
        try {
            String v = Files.readString(Path.of("/proc/sys/kernel/io_uring_disabled"))
                    .trim();
            return v.equals("2") ? "/proc/sys/kernel/io_uring_disabled is 2" : null; // 1: allowed for root and a group
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private MemorySegment map(long size, long offset) throws IOException {
        long address =
                Libc.mmap(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (address < 0) {
            throw new IOException("io_uring mmap: " + errnoName((int) -address));
        }
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    /**
     * Writes the next submission entry: {@code op} on {@code fd} with {@code addr}/{@code len} at
     * file offset {@code off}, {@code opFlags} (msg_flags for a send), {@code flags} (LINK), tagged
     * {@code userData}.
     */
    void prepare(byte op, byte flags, int fd, long addr, int len, long off, int opFlags, long userData) {
        int tail = sqRing.get(JAVA_INT, sqTail) + queued;
        long e = (long) (tail & sqMask) * SQE_SIZE;
        sqes.asSlice(e, SQE_SIZE).fill((byte) 0);
        sqes.set(JAVA_BYTE, e, op);
        sqes.set(JAVA_BYTE, e + 1, flags);
        sqes.set(JAVA_SHORT, e + 2, (short) 0);
        sqes.set(JAVA_INT, e + 4, fd);
        sqes.set(JAVA_LONG, e + 8, off);
        sqes.set(JAVA_LONG, e + 16, addr);
        sqes.set(JAVA_INT, e + 24, len);
        sqes.set(JAVA_INT, e + 28, opFlags);
        sqes.set(JAVA_LONG, e + 32, userData);
        queued++;
    }

    /** Receives one completion: its user data and result. */
    interface Completions {
        void completed(long userData, int result);
    }

    /**
     * Submits the entries prepared and waits for as many completions, in one system call (more
     * only if a signal interrupts it); each goes to {@code to}.
     */
    void submitAndWait(Completions to) throws IOException {
        int n = queued;
        if (n == 0) {
            return;
        }
        INT.setRelease(sqRing, (long) sqTail, sqRing.get(JAVA_INT, sqTail) + n);
        queued = 0;
        int submitted = 0;
        int seen = 0;
        while (seen < n) {
            int r = (int) call(SYS_ENTER, fd, n - submitted, n - seen, ENTER_GETEVENTS, 0, 0);
            if (r < 0) {
                if (-r == Libc.EINTR) {
                    continue;
                }
                throw new IOException("io_uring_enter: " + errnoName(-r));
            }
            submitted += r;
            seen += reap(to);
        }
    }

    private int reap(Completions to) {
        int head = cqRing.get(JAVA_INT, cqHead);
        int tail = (int) INT.getAcquire(cqRing, (long) cqTail);
        int count = 0;
        for (; head != tail; head++, count++) {
            long c = cqes + (long) (head & cqMask) * CQE_SIZE;
            to.completed(cqRing.get(JAVA_LONG, c), cqRing.get(JAVA_INT, c + 8));
        }
        INT.setRelease(cqRing, (long) cqHead, head);
        return count;
    }

    /** The system call's result, or minus its errno. */
    private long call(long number, long a, long b, long c, long d, long e, long f) throws IOException {
        try {
            long r = (long) SYSCALL.invokeExact(errno, number, a, b, c, d, e, f);
            return r == -1 ? -Libc.errno(errno) : r;
        } catch (Throwable t) {
            throw new IOException("io_uring system call " + number, t);
        }
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case 1 -> "EPERM (operation not permitted: io_uring disabled for this process)";
            case 12 -> "ENOMEM";
            case 22 -> "EINVAL";
            case 24 -> "EMFILE";
            case 38 -> "ENOSYS (no io_uring in this kernel, or a seccomp filter forbids it)";
            default -> "errno " + errno;
        };
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unmap(sqes, sqesSize);
        if (cqRingSize > 0) {
            unmap(cqRing, cqRingSize);
        }
        unmap(sqRing, sqRingSize);
        Libc.close(fd);
    }

    private static void unmap(MemorySegment m, long size) {
        Libc.munmap(m.address(), size);
    }
}
