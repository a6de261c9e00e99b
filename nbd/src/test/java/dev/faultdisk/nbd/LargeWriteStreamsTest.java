package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LargeWriteStreamsTest {
    private static final long WINDOW = LargeWriteStreams.RECENT_MILLIS * 1_000_000;
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LargeWriteStreams streams =
            new LargeWriteStreams(LargeWriteStreams.Way.OFF_READER, now::get, LargeWriteStreams.RECENT_MILLIS);

    @Test
    void aConnectionIsAloneOnceItHasSentLargeWritesForAWhileAndNoOtherHas() {
        LargeWriteStreams.Stream a = streams.stream(1);
        LargeWriteStreams.Stream b = streams.stream(2);
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
        LargeWriteStreams none = new LargeWriteStreams(LargeWriteStreams.Way.OFF_READER, now::get, 0);
        LargeWriteStreams.Stream a = none.stream(1);
        LargeWriteStreams.Stream b = none.stream(2);
        assertTrue(a.alone());
        assertTrue(b.alone());
        assertTrue(a.alone());
    }
}
