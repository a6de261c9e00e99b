package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PlatformReaderPoolTest {
    @Test
    void aThreadLeftByItsConnectionReadsTheNextOneUnderItsName() throws Exception {
        PlatformReaderPool pool = new PlatformReaderPool(TimeUnit.MINUTES.toMillis(1));
        Thread first = runOn(pool, "nbd-conn-1");
        await().atMost(Duration.ofSeconds(10)).until(() -> first.getName().equals(PlatformReaderPool.IDLE_NAME));
        assertFalse(first.isVirtual());
        assertSame(first, runOn(pool, "nbd-conn-2"), "the kept thread reads the next connection");
    }

    @Test
    void withNothingKeptEachConnectionGetsAThreadOfItsOwn() throws Exception {
        PlatformReaderPool pool = new PlatformReaderPool(0);
        Thread first = runOn(pool, "nbd-conn-1");
        await().atMost(Duration.ofSeconds(10)).until(() -> !first.isAlive());
        assertNotSame(first, runOn(pool, "nbd-conn-2"));
    }

    /** Runs a reader named {@code name} on the pool; returns its thread, checked to carry the name while it ran. */
    private static Thread runOn(PlatformReaderPool pool, String name) throws Exception {
        CompletableFuture<Thread> ran = new CompletableFuture<>();
        CompletableFuture<String> named = new CompletableFuture<>();
        pool.run(name, () -> {
            named.complete(Thread.currentThread().getName());
            ran.complete(Thread.currentThread());
        });
        assertEquals(name, named.get(10, TimeUnit.SECONDS));
        return ran.get(10, TimeUnit.SECONDS);
    }
}
