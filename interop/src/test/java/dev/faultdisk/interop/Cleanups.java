package dev.faultdisk.interop;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo actions run in reverse order of registration, each even if an earlier one failed, so a
 * failing test never leaves a mount, loop device or FUSE daemon behind. The first failure is
 * thrown after all have run; later ones are attached to it.
 */
final class Cleanups implements AutoCloseable {
    /** An undo step. */
    interface Step {
        void run() throws Exception;
    }

    private final Deque<Step> steps = new ArrayDeque<>();

    void add(Step step) {
        steps.push(step);
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (Exception | AssertionError e) {
                Exception wrapped = e instanceof Exception ex ? ex : new Exception(e);
                if (first == null) {
                    first = wrapped;
                } else {
                    first.addSuppressed(wrapped);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
