package dev.faultdisk.nbd;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The rests of a connection's submitted requests, resumed after their timed waits: run on one
 * virtual thread at a time, in the order they were resumed, then their replies sent together.
 */
final class ResumedRequests {
    private final ConcurrentLinkedQueue<Runnable> rests = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final ThreadFactory drainers;
    private final Runnable sendReplies;
    private final Consumer<Throwable> failed;

    /**
     * @param sendReplies sends the replies the rests built
     * @param failed      told of what a rest threw; the next rests run all the same
     */
    ResumedRequests(String threadName, Runnable sendReplies, Consumer<Throwable> failed) {
        this.drainers = Thread.ofVirtual().name(threadName).factory();
        this.sendReplies = sendReplies;
        this.failed = failed;
    }

    /** Queues a rest, and starts a thread to run the queue if none does. */
    void resume(Runnable rest) {
        rests.add(rest);
        if (draining.compareAndSet(false, true)) {
            drainers.newThread(this::drain).start();
        }
    }

    private void drain() {
        do {
            for (Runnable rest; (rest = rests.poll()) != null; ) {
                try {
                    rest.run();
                } catch (Throwable e) {
                    failed.accept(e);
                }
            }
            sendReplies.run();
            draining.set(false);
        } while (!rests.isEmpty() && draining.compareAndSet(false, true));
    }
}
