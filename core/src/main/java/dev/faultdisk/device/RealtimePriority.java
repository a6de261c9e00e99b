package dev.faultdisk.device;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A real-time scheduling class for the threads that serve injected delays, on request
 * ({@code -Dfaultdisk.nbd.realtime=true}). On a busy machine a woken thread can wait for a CPU
 * until the next scheduler tick (4 ms at HZ 250) behind whatever runs there, so a 1 ms delay
 * sometimes ends 4 ms late; a {@code SCHED_FIFO} thread runs as soon as it wakes. The cost: such
 * threads take the CPU from everything else, the client under test included (docs/BENCHMARKS.md
 * measures both). Needs {@code CAP_SYS_NICE} (or an {@code RLIMIT_RTPRIO} of at least 1); without
 * it, or off Linux, threads keep their class and the server says so once.
 */
public final class RealtimePriority {
    private static final System.Logger LOG = System.getLogger(RealtimePriority.class.getName());
    private static final String PROPERTY = "faultdisk.nbd.realtime";
    private static final int SCHED_FIFO = 1;
    /**
     * Threads this one starts begin in the ordinary class: a carrier thread the fork-join pool
     * happens to start from a reader must not run every virtual thread in the real-time class.
     */
    private static final int SCHED_RESET_ON_FORK = 0x40000000;

    private static final int PRIORITY = 1; // the lowest: above every ordinary thread, below the kernel's own
    private static final MethodHandle SETSCHEDULER = Libc.function(
            "sched_setscheduler", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), Libc.ERRNO);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private RealtimePriority() {}

    /** Whether the real-time class was asked for (read at each call, so a test may set it). */
    public static boolean wanted() {
        return Boolean.getBoolean(PROPERTY);
    }

    /** If it was asked for, moves the calling thread into {@code SCHED_FIFO}; true if the thread is in it now. */
    public static boolean enterIfWanted() {
        return wanted() && enter();
    }

    /** Moves the calling thread into {@code SCHED_FIFO} at the lowest priority; true if it worked. */
    public static boolean enter() {
        if (SETSCHEDULER == null) {
            return refused("this system has no sched_setscheduler");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            MemorySegment param = arena.allocateFrom(JAVA_INT, PRIORITY);
            int r = (int) SETSCHEDULER.invokeExact(state, 0, SCHED_FIFO | SCHED_RESET_ON_FORK, param);
            return r == 0 || refused("sched_setscheduler: errno " + Libc.errno(state));
        } catch (Throwable e) {
            return refused(e.toString());
        }
    }

    private static boolean refused(String why) {
        if (WARNED.compareAndSet(false, true)) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "-D" + PROPERTY + ": threads keep their scheduling class (" + why + "; it needs CAP_SYS_NICE)");
        }
        return false;
    }
}
