package dev.faultdisk.client;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * A breakpoint set through {@link FaultdiskClient#breakpoint}: wait until a request hits it, act
 * while the request is held, then let it go.
 *
 * <pre>{@code
 * try (Breakpoint bp = fd.breakpoint("disk0", "write_aio", "w")) {
 *     Suspension held = bp.awaitHit(Duration.ofSeconds(10));
 *     fd.blkdebugSetRules("disk0", BlkdebugRule.injectError("flush_to_disk"));
 *     bp.resume();
 * }
 * }</pre>
 *
 * Closing the handle removes the breakpoint and releases its requests unless {@link #resume} or
 * {@link #remove} already did.
 */
public final class Breakpoint implements AutoCloseable {
    private final FaultdiskClient client;
    private final String device;
    private final String event;
    private final String tag;
    private long armedAfter;
    private Suspension hit;
    private boolean settled;

    Breakpoint(FaultdiskClient client, String device, String event, String tag, long armedAfter) {
        this.client = client;
        this.device = device;
        this.event = event;
        this.tag = tag;
        this.armedAfter = armedAfter;
    }

    public String device() {
        return device;
    }

    public String event() {
        return event;
    }

    public String tag() {
        return tag;
    }

    /**
     * Waits until a request is suspended at this breakpoint (its {@code BLKDEBUG_SUSPENDED}
     * event) and returns it; at once if that already happened.
     *
     * @throws FaultdiskTimeoutException if no request hits it in time
     */
    public Suspension awaitHit(Duration timeout) {
        long after;
        synchronized (this) {
            if (hit != null) {
                return hit;
            }
            after = armedAfter;
        }
        // Not holding the lock while waiting: resume, remove or close may come from another thread.
        Event e = client.awaitEvent(
                after, "BLKDEBUG_SUSPENDED", ev -> device.equals(ev.device()) && tag.equals(ev.string("tag")), timeout);
        synchronized (this) {
            if (hit == null && armedAfter == after) {
                hit = Suspension.from(e);
            }
            return hit != null ? hit : Suspension.from(e);
        }
    }

    /** The held request, if the breakpoint was hit and {@link #awaitHit} saw it. */
    public synchronized Suspension hit() {
        return hit;
    }

    /** Releases the held request (blkdebug-resume). */
    public synchronized void resume() {
        client.blkdebugResume(device, tag);
        settled = true;
    }

    /** Removes the breakpoint and releases any request held under its tag. */
    public synchronized void remove() {
        client.blkdebugRemoveBreakpoint(device, tag);
        settled = true;
    }

    /**
     * Waits for the hit, runs {@code action} while the request is held, then resumes it (also
     * when the action throws). Returns the request that was held.
     */
    public Suspension atHit(Duration timeout, Consumer<Suspension> action) {
        Suspension s = awaitHit(timeout);
        try {
            action.accept(s);
        } finally {
            resume();
        }
        return s;
    }

    /** Sets the same breakpoint again, for the next request; the handle then waits for that one. */
    public synchronized Breakpoint rearm() {
        long before = client.lastEventSequence();
        client.blkdebugSetBreakpoint(device, event, tag);
        armedAfter = before;
        hit = null;
        settled = false;
        return this;
    }

    /** Removes the breakpoint unless it was resumed or removed already; errors are ignored then. */
    @Override
    public synchronized void close() {
        if (!settled && client.isOpen()) {
            try {
                remove();
            } catch (QmpException | QmpConnectionException ignored) {
                // already gone, or the server with it: fine
            }
        }
    }
}
