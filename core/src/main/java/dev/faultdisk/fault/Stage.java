package dev.faultdisk.fault;

/**
 * Where a fault acts among the rules that select a request (they act in this order, then by rule
 * id, as docs/faults/README.md lists), and how long it may hold the request.
 */
public enum Stage {
    DISCONNECT,
    HANG(Hold.UNTIL_RELEASED),
    THROTTLE(Hold.FOR_A_TIME),
    DELAY(Hold.FOR_A_TIME),
    ERROR,
    BAD_SECTOR,
    CORRUPT,
    MISDIRECTED,
    TORN,
    LOST,
    DISCONNECT_MID_REPLY;

    /** How a fault may hold the request it acts on. */
    private enum Hold {
        NEVER,
        /** Only for a time it computes ({@link FaultCall#waitFor}): a timer can serve the wait. */
        FOR_A_TIME,
        /** Until something else happens (a release, a timeout): a thread must wait. */
        UNTIL_RELEASED
    }

    private final Hold hold;

    Stage() {
        this(Hold.NEVER);
    }

    Stage(Hold hold) {
        this.hold = hold;
    }

    /** True if a fault here may hold the request for long (hang, throttle, delay). */
    public boolean blocks() {
        return hold != Hold.NEVER;
    }

    /**
     * True if the only wait a fault here makes is for a time it computes (delay, throttle): a
     * submitted request then waits on a timer, holding no thread.
     */
    public boolean timed() {
        return hold == Hold.FOR_A_TIME;
    }
}
