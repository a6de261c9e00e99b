package dev.faultdisk.device;

/**
 * The rules behind a layer that may hold requests (fault rules, blkdebug): whether a call may
 * block now, and a shutdown that lets go of every request they hold.
 */
public interface LayerEngine {

    /** True if a request may be held or delayed now; asked once per request, so it must be cheap. */
    boolean mayBlock();

    /** Drops the rules and lets go of what they hold, so that nothing stays stuck at close. */
    void shutdown();
}
