package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The kept platform threads of large writes: bounded, kept, and a write beyond them still runs. */
class OffReaderWritersTest {
    @Test
    @Timeout(30)
    void aWriteBeyondTheBoundRunsOnTheFallbackAndAFreedThreadIsKept() throws Exception {
        OffReaderWriters writers = new OffReaderWriters(1, TimeUnit.MINUTES.toMillis(1));
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<Thread> first = new CompletableFuture<>();
        writers.execute(
                () -> {
                    first.complete(Thread.currentThread());
                    await(hold);
                },
                r -> {
                    throw new AssertionError("the first write needs no fallback");
                });
        Thread writer = first.get(10, TimeUnit.SECONDS);
        assertFalse(writer.isVirtual());
        assertEquals(OffReaderWriters.NAME, writer.getName());

        // The one thread is busy: the next write goes to the fallback, and runs.
        CompletableFuture<Thread> second = new CompletableFuture<>();
        writers.execute(
                () -> second.complete(Thread.currentThread()),
                r -> Thread.ofVirtual().start(r));
        assertTrue(second.get(10, TimeUnit.SECONDS).isVirtual(), "beyond the bound: the fallback's thread");

        hold.countDown();
        // Once free, the thread is kept and takes the next write (a handful of tries: the first
        // may still be on its way back to the pool's queue).
        Thread third = null;
        for (int i = 0; i < 100 && third != writer; i++) {
            CompletableFuture<Thread> next = new CompletableFuture<>();
            writers.execute(() -> next.complete(Thread.currentThread()), r -> next.complete(null));
            third = next.get(10, TimeUnit.SECONDS);
            if (third != writer) {
                Thread.sleep(10);
            }
        }
        assertSame(writer, third, "the freed writer thread is kept for the next write");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
