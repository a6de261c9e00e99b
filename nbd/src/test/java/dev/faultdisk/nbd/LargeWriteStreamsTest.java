package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Which connection writes alone, and the way its large writes take: the server's trial, run on the
 * writes of the connection alone, is every connection's (a new one takes it at once), and writes
 * that are not one connection's alone stay on the reader.
 */
class LargeWriteStreamsTest {
    private static final long MIB = 1 << 20;
    private static final long TRIAL_NANOS = 2 * PaceTrial.BLOCKS * (PaceTrial.SETTLE_NANOS + PaceTrial.TIMED_NANOS);
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

    @Test
    void theWayIsTheServersAndOnlyAConnectionWritingAloneTakesIt() {
        LargeWriteStreams streams =
                new LargeWriteStreams(LargeWriteStreams.Way.TRIED, now::get, LargeWriteStreams.RECENT_MILLIS);
        LargeWriteStreams.Stream a = streams.stream(1);
        LargeWriteStreams.Stream b = streams.stream(2);
        long window = TimeUnit.MILLISECONDS.toNanos(LargeWriteStreams.RECENT_MILLIS);
        for (int i = 0; i < 20; i++) {
            now.addAndGet(500_000);
            assertFalse(a.offReader(MIB), "a is not alone");
            assertFalse(b.offReader(MIB), "b is not alone");
        }
        now.addAndGet(window);
        // a alone, off the reader faster: the trial runs on a's writes and keeps that way.
        boolean off = a.offReader(MIB);
        long until = now.get() + TRIAL_NANOS + 10_000_000;
        while (now.get() < until) {
            now.addAndGet(off ? 480_000 : 700_000);
            off = a.offReader(MIB);
        }
        assertTrue(off, "a's writes off the reader");
        now.addAndGet(2 * window); // a has stopped: b writes alone
        for (int i = 0; i < 10; i++) {
            assertTrue(b.offReader(MIB), "b takes the way kept, with no trial of its own: write " + i);
            now.addAndGet(480_000);
        }
    }

    @Test
    void theWayIsTriedByDefaultOrFixedBySetting() {
        assertEquals(LargeWriteStreams.Way.TRIED, LargeWriteStreams.way("try"));
        assertEquals(LargeWriteStreams.Way.OFF_READER, LargeWriteStreams.way(" TRUE "));
        assertEquals(LargeWriteStreams.Way.ON_READER, LargeWriteStreams.way("false"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> LargeWriteStreams.way("sometimes"));
        assertTrue(e.getMessage().contains("try, true or false"), e.getMessage());
    }
}
