package dev.faultdisk.server;

/** The bound on holds that name no timeout, and where it was set (for the warning when it fires). */
record HoldTimeout(long nanos, String source) {
    static final HoldTimeout NONE = new HoldTimeout(0, "");
}
