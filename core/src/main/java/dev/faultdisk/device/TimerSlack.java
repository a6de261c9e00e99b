package dev.faultdisk.device;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/**
 * Linux lets a thread's timed waits end up to its timer slack late (50 µs by default), to
 * coalesce wake-ups; a thread that lets delays go must not add that to every delay it serves.
 * {@link #minimize()} sets the calling thread's slack to 1 ns (prctl PR_SET_TIMERSLACK); elsewhere,
 * or without native access, it does nothing and the waits are only as late as the kernel makes them.
 */
public final class TimerSlack {
    private static final int PR_SET_TIMERSLACK = 29;
    private static final MethodHandle PRCTL = Libc.function(
            "prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(1));

    private TimerSlack() {}

    /** True if the calling thread's slack is now 1 ns. */
    public static boolean minimize() {
        if (PRCTL == null) {
            return false;
        }
        try {
            return (int) PRCTL.invokeExact(PR_SET_TIMERSLACK, 1L) == 0;
        } catch (Throwable e) {
            return false;
        }
    }
}
