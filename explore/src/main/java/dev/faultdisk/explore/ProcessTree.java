package dev.faultdisk.explore;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Ends a process together with everything it started, for commands run with a time bound. */
public final class ProcessTree {
    private ProcessTree() {}

    /**
     * Kills {@code p} and its descendants at once, waits up to 5 s for it to end, then kills any
     * descendant started meanwhile.
     */
    public static void kill(Process p) {
        kill(p.toHandle());
    }

    /** As {@link #kill(Process)}, for a process known by its pid (one another JVM may have started). */
    public static void kill(ProcessHandle p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.onExit().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // killed all the same: only a process stuck in the kernel outlives SIGKILL for long
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
    }
}
