package dev.faultdisk.fault;

/**
 * A fault whose only wait is for a time it computes and asks for with {@link FaultCall#waitFor}
 * (delay, throttle): it may hold a request for long, and a submitted request waits for it on a
 * timer, holding no thread.
 */
interface TimedFault extends Fault {
    @Override
    default boolean blocks() {
        return true;
    }

    @Override
    default boolean timed() {
        return true;
    }
}
