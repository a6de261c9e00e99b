package dev.faultdisk.explore;

import java.util.concurrent.TimeUnit;

/** Ends a process together with everything it started, for commands run with a time bound. */
public final class ProcessTree {
    private ProcessTree() {}

    /**
     * Kills {@code p} and its descendants at once, waits up to 5 s for it to end, then kills any
     * descendant started meanwhile.
     */
    public static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
    }
}
