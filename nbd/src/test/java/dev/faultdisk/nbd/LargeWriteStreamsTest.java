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
    private static final long TRIAL_NANOS = LargeWriteStreams.TRIAL.trialNanos(2);
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

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
