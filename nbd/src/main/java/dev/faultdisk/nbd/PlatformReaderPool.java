package dev.faultdisk.nbd;

import dev.faultdisk.device.ThreadScheduling;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The platform threads that read connections, kept for {@code faultdisk.nbd.readerKeepMillis}
 * (default 1000; 0: none kept) once their connection leaves them (it went idle and moved to a
 * virtual thread, or it ended), so the next connection that needs one takes it instead of
 * starting a thread. A TLS handshake over TCP runs on such a thread: on a thread started for it
 * the same handshake cost more CPU than on a virtual thread's long-lived carrier
 * (docs/BENCHMARKS.md, "Platform readers kept"). How many run at once is {@link ReaderThreads}'s
 * budget, not the pool's. A thread carries its connection's name while it reads it, so a thread
 * dump shows which connection it serves, and {@value #IDLE_NAME} while it waits for the next.
 */
final class PlatformReaderPool {
    static final String IDLE_NAME = "nbd-reader-idle";

    private final ThreadPoolExecutor pool;

    PlatformReaderPool(long keepMillis) {
        pool = new ThreadPoolExecutor(
                0,
                Integer.MAX_VALUE,
                keepMillis,
                TimeUnit.MILLISECONDS,
                new SynchronousQueue<>(),
                Thread.ofPlatform().name(IDLE_NAME).daemon(true).factory());
    }

    /**
     * Runs {@code body} on a kept thread or a new one, named {@code name} and scheduled as
     * {@link ThreadScheduling} says. Throws {@link OutOfMemoryError} if no thread could be started.
     */
    void run(String name, Runnable body) {
        pool.execute(() -> {
            Thread thread = Thread.currentThread();
            thread.setName(name);
            ThreadScheduling.enter();
            try {
                body.run();
            } finally {
                thread.setName(IDLE_NAME);
            }
        });
    }
}
