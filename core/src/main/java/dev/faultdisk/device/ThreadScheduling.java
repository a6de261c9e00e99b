package dev.faultdisk.device;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How the kernel schedules the threads that serve requests and their injected delays (platform
 * readers, delay threads, the delay timer), and the QMP sessions' platform readers and writers,
 * which run and answer the commands that change faults while requests flow. On a busy machine a
 * woken thread can wait for a CPU until the next scheduler tick (4 ms at HZ 250) behind whatever
 * runs there, so a 1 ms delay sometimes ends 4 ms late. Two remedies, each measured in docs/BENCHMARKS.md:
 *
 * <ul>
 *   <li>A short time slice (default, {@code -Dfaultdisk.nbd.sliceMicros}, 100; 0 turns it off):
 *       the thread stays in the ordinary class with its fair share, but Linux 6.12's scheduler
 *       lets a thread that asks for a short slice run sooner when it wakes ({@code sched_setattr}
 *       with {@code sched_runtime}). No privilege needed; older kernels ignore it.
 *   <li>The real-time class, on request ({@code -Dfaultdisk.nbd.realtime=true}): {@code
 *       SCHED_FIFO} at the lowest priority runs the thread as soon as it wakes, and takes the CPU
 *       from everything else, the client under test included. Needs {@code CAP_SYS_NICE}; without
 *       it the server says so once.
 * </ul>
 *
 * Both reset on fork: threads these start (a fork-join carrier, say) begin ordinary.
 */
public final class ThreadScheduling {
    private static final System.Logger LOG = System.getLogger(ThreadScheduling.class.getName());
    private static final String REALTIME = "faultdisk.nbd.realtime";
    private static final String SLICE = "faultdisk.nbd.sliceMicros";
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_FIFO = 1;
    private static final int PRIO_PROCESS = 0; // with who 0: the calling thread, on Linux
    private static final int SCHED_RESET_ON_FORK = 0x40000000; // a policy flag of sched_setscheduler
    private static final long SCHED_FLAG_RESET_ON_FORK = 1; // the same, as a flag of sched_setattr
    private static final int FIFO_PRIORITY = 1; // the lowest: above every ordinary thread, below the kernel's own
    /** struct sched_attr up to sched_period (SCHED_ATTR_SIZE_VER0). */
    private static final int SCHED_ATTR_SIZE = 48;
    /** sched_setattr has no C library wrapper before glibc 2.41: its system call number, or -1. */
    private static final long SYS_SCHED_SETATTR = switch (System.getProperty("os.arch", "")) {
        case "amd64", "x86_64" -> 314;
        case "aarch64" -> 274;
        default -> -1;
    };

    private static final MethodHandle SETSCHEDULER = Libc.function(
            "sched_setscheduler", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), Libc.ERRNO);
    /** The calling thread's nice value (on Linux a thread's own); for it the call cannot fail. */
    private static final MethodHandle GETPRIORITY =
            Libc.function("getpriority", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private static final MethodHandle SYSCALL = Libc.function(
            "syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Libc.ERRNO,
            Linker.Option.firstVariadicArg(1));
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private ThreadScheduling() {}

    /**
     * Schedules the calling thread as configured (read at each call, so a test may change it):
     * the real-time class if asked for, else the short slice unless it is off.
     */
    public static void enter() {
        if (Boolean.getBoolean(REALTIME) && realtime()) {
            return;
        }
        // Set each time, 0 included: a pooled reader keeps what an earlier connection's settings gave it.
        slice(Math.max(0, Long.getLong(SLICE, 100)));
    }

    private static boolean realtime() {
        if (SETSCHEDULER == null) {
            return refused("this system has no sched_setscheduler");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            MemorySegment param = arena.allocateFrom(JAVA_INT, FIFO_PRIORITY);
            int r = (int) SETSCHEDULER.invokeExact(state, 0, SCHED_FIFO | SCHED_RESET_ON_FORK, param);
            return r == 0 || refused("sched_setscheduler: errno " + Libc.errno(state) + "; it needs CAP_SYS_NICE");
        } catch (Throwable e) {
            return refused(e.toString());
        }
    }

    /**
     * A slice of {@code micros} (0: the kernel's own) in the ordinary class, at the thread's nice
     * value (a server started under {@code nice} stays so: sched_setattr sets the nice value too,
     * and would otherwise put it back to 0, or fail without privilege); quietly nothing where the
     * system cannot.
     */
    private static void slice(long micros) {
        if (SYSCALL == null || GETPRIORITY == null || SYS_SCHED_SETATTR < 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            MemorySegment attr = arena.allocate(SCHED_ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, SCHED_ATTR_SIZE);
            attr.set(JAVA_INT, 4, SCHED_OTHER);
            attr.set(JAVA_LONG, 8, SCHED_FLAG_RESET_ON_FORK);
            attr.set(JAVA_INT, 16, (int) GETPRIORITY.invokeExact(PRIO_PROCESS, 0)); // sched_nice: as it is
            attr.set(JAVA_LONG, 24, micros * 1000); // sched_runtime: the slice asked for, in ns
            long r = (long) SYSCALL.invokeExact(state, SYS_SCHED_SETATTR, 0L, attr, 0L);
            if (r != 0) {
                LOG.log(System.Logger.Level.DEBUG, "no short slice for this thread: errno " + Libc.errno(state));
            }
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.DEBUG, "no short slice for this thread", e);
        }
    }

    private static boolean refused(String why) {
        if (WARNED.compareAndSet(false, true)) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "-D" + REALTIME + ": threads keep their scheduling class (" + why + ")");
        }
        return false;
    }
}
