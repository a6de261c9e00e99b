package dev.faultdisk.nbd;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The platform threads that write large payloads into the image while their connection's reader
 * receives the next ({@link LargeWriteStreams}: only a connection writing alone over a Unix
 * socket, so a few threads serve every connection in turn). On a virtual thread of its own each
 * such write went through the virtual-thread scheduler (a carrier woken, and held by the blocking
 * {@code pwrite}): fio's 1 MiB sequential writes at QD8 ran 1.04 (0.95-1.12) times as fast on
 * these (docs/BENCHMARKS.md, "This round (after 5a784b2)"). Threads are kept {@value
 * #KEEP_MILLIS} ms after their last write; at most {@code -Dfaultdisk.nbd.offReaderWriters}
 * (default 32) run at once, and a write beyond them runs where the caller's fallback says.
 */
final class OffReaderWriters {
    static final String NAME = "nbd-write";
    private static final long KEEP_MILLIS = 1000;
    private static final OffReaderWriters SHARED =
            new OffReaderWriters(Math.max(1, Integer.getInteger("faultdisk.nbd.offReaderWriters", 32)), KEEP_MILLIS);

    private final ThreadPoolExecutor pool;

    OffReaderWriters(int max, long keepMillis) {
        pool = new ThreadPoolExecutor(
                0,
                max,
                keepMillis,
                TimeUnit.MILLISECONDS,
                new SynchronousQueue<>(),
                Thread.ofPlatform().name(NAME).daemon(true).factory());
    }

    /** The process's writers. */
    static OffReaderWriters shared() {
        return SHARED;
    }

    /** Runs {@code write} on a kept or new writer thread, or with {@code fallback} if all are busy or none could start. */
    void execute(Runnable write, Executor fallback) {
        try {
            pool.execute(write);
        } catch (RejectedExecutionException | OutOfMemoryError e) {
            fallback.execute(write);
        }
    }
}
