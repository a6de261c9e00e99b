package dev.faultdisk.device;

/**
 * What a request run with {@link BlockDevice#submit} reports to when it finishes, and where it
 * goes on after a timed wait. A layer that waits for a time it knows (an injected delay, a
 * throttle) hands the rest of the request to a timer and returns: while it waits, no thread and
 * no stack is held for it. When the timer fires, the rest runs where {@link #resume} puts it.
 */
public interface Completion {

    /**
     * The request finished: {@code failure} is null on success, the request's error (an
     * {@link java.io.IOException}, a {@link DeviceException} for an errno) or a bug. Called once.
     */
    void complete(Throwable failure);

    /**
     * Runs {@code rest} of the request after a timed wait, on a thread the caller of
     * {@link BlockDevice#submit} chooses (a frontend: the connection's reply thread). Called on the
     * timer's thread, so it must not block; by default the rest runs there at once.
     */
    default void resume(Runnable rest) {
        rest.run();
    }

    /**
     * A thread of the caller's that waits out timed waits itself and runs the rest there (real time
     * only); null, the default: the clock's timer waits, and {@link #resume} runs the rest.
     */
    default TimedWaiter waiter() {
        return null;
    }

    /** This completion with {@code step} run first: a layer's work once the request below finished. */
    default Completion after(Step step) {
        Completion outer = this;
        return new Completion() {
            @Override
            public void complete(Throwable failure) {
                Throwable f = failure;
                try {
                    step.finished(failure);
                } catch (RuntimeException | Error e) {
                    f = e; // a bug in the step: reported as the request's, never lost
                }
                outer.complete(f);
            }

            @Override
            public void resume(Runnable rest) {
                outer.resume(rest);
            }

            @Override
            public TimedWaiter waiter() {
                return outer.waiter();
            }
        };
    }

    /** A layer's work after the request below finished, with its failure (null: success). */
    @FunctionalInterface
    interface Step {
        void finished(Throwable failure);
    }
}
