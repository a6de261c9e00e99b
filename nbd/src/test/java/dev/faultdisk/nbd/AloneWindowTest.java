package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Which connection does something alone: every time recorded, or at most every so often. */
class AloneWindowTest {
    private static final long WINDOW = LargeWriteStreams.RECENT_MILLIS * 1_000_000;
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AloneWindow window = new AloneWindow(now::get, LargeWriteStreams.RECENT_MILLIS);

    @Test
    void aConnectionIsAloneOnceItHasSentLargeWritesForAWhileAndNoOtherHas() {
        AloneWindow.Stream a = window.stream(1);
        AloneWindow.Stream b = window.stream(2);
        assertFalse(a.alone(), "a new stream proves itself first");
        now.addAndGet(WINDOW - 1);
        assertFalse(a.alone(), "just inside the window");
        now.addAndGet(1);
        for (int i = 0; i < 5; i++) {
            assertTrue(a.alone(), "one stream of writes, write " + i);
            now.addAndGet(100_000);
        }
        assertFalse(b.alone(), "a wrote 100 µs ago");
        now.addAndGet(100_000);
        assertFalse(a.alone(), "b just wrote");
        now.addAndGet(100_000);
        assertFalse(a.alone(), "a's next write still sees b's, 200 µs old");
        now.addAndGet(WINDOW - 200_001);
        assertFalse(a.alone(), "b's write just inside the window");
        now.addAndGet(2);
        assertTrue(a.alone(), "b has sent nothing for the window");
        now.addAndGet(100_000);
        assertFalse(b.alone(), "b's write now sees a's");
        now.addAndGet(WINDOW);
        assertTrue(b.alone(), "a has sent nothing for the window");
    }

    @Test
    void withNoWindowEveryStreamIsAloneAtOnce() {
        AloneWindow none = new AloneWindow(now::get, 0);
        AloneWindow.Stream a = none.stream(1);
        AloneWindow.Stream b = none.stream(2);
        assertTrue(a.alone());
        assertTrue(b.alone());
        assertTrue(a.alone());
    }

    @Test
    void connectionsRecordingThemselvesOnlySoOftenStillSeeEachOtherInTheWindow() {
        AloneWindow sparse = new AloneWindow(now::get, LargeWriteStreams.RECENT_MILLIS, WINDOW / 8);
        AloneWindow.Stream a = sparse.stream(1);
        AloneWindow.Stream b = sparse.stream(2);
        assertFalse(a.alone(), "a new stream proves itself first");
        now.addAndGet(WINDOW);
        assertTrue(a.alone(), "a alone for the window");
        // Both busy, a burst every 50 µs each: each sees the other, though each records itself
        // only every 1.25 ms.
        for (int i = 0; i < 1000; i++) {
            now.addAndGet(50_000);
            boolean aAlone = a.alone();
            now.addAndGet(50_000);
            boolean bAlone = b.alone();
            if (i > 0) {
                assertFalse(aAlone, "a sees b, burst " + i);
            }
            assertFalse(bAlone, "b sees a, burst " + i);
        }
        now.addAndGet(WINDOW + 1); // b stops
        for (int i = 0; i < 10; i++) {
            now.addAndGet(50_000);
            assertTrue(a.alone(), "a alone again, burst " + i);
        }
    }
}
