package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A connection's large writes tried on the reader and off it, with a clock that advances by what
 * each way costs a write: the faster way is kept, for a while, then both are tried again; a pause
 * starts the trial over; and writes that are not the connection's alone stay on the reader.
 */
class WritePathTrialTest {
    /** The write at which a way is kept: both ways' blocks, then the one that decides. */
    private static final int TRIAL = 2 * WritePathTrial.BLOCKS * (WritePathTrial.SETTLE + WritePathTrial.TIMED) + 1;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final WritePathTrial trial = new WritePathTrial(now::get);

    @Test
    void offTheReaderIsKeptWhereItIsFaster() {
        assertEquals(TRIAL, writes(TRIAL, 700_000, 480_000), "the trial's writes");
        assertTrue(trial.keptOff(), "off the reader kept");
        for (int i = 0; i < 100; i++) {
            assertTrue(offAfter(480_000), "write " + i + " after the trial");
        }
    }

    @Test
    void theReaderIsKeptWhereItIsFasterOrOffIsNotFasterByTheMargin() {
        writes(TRIAL, 300_000, 340_000);
        assertFalse(trial.keptOff(), "on the reader kept");
        for (int i = 0; i < 100; i++) {
            assertFalse(offAfter(300_000), "write " + i + " after the trial");
        }
        trial.restart();
        writes(TRIAL, 300_000, 295_000); // 1.7% faster off: not worth the hand-off's CPU
        assertFalse(trial.keptOff(), "on the reader kept");
    }

    @Test
    void bothWaysAreTriedAgainAfterTheKeptWrites() {
        writes(TRIAL, 700_000, 480_000);
        assertTrue(trial.keptOff());
        for (int i = 1; i < WritePathTrial.KEEP; i++) {
            assertTrue(offAfter(480_000), "kept write " + i);
        }
        assertFalse(trial.keptOff(), "trying again");
        // The machine changed its mind (another load, say): on the reader is faster now.
        writes(TRIAL, 300_000, 480_000);
        assertFalse(trial.keptOff(), "on the reader kept this time");
    }

    @Test
    void aPauseInATrialStartsItOver() {
        for (int i = 0; i < WritePathTrial.SETTLE + 5; i++) {
            assertFalse(offAfter(300_000), "trying on the reader, write " + i);
        }
        now.addAndGet(WritePathTrial.PAUSE_NANOS + 1); // the client stopped for a while
        assertEquals(TRIAL, writes(TRIAL, 300_000, 900_000), "a whole trial again after the pause");
        assertFalse(trial.keptOff(), "the pause counted against neither way");
    }

    @Test
    void aConnectionNotWritingAloneStaysOnTheReaderAndTriesAfresh() {
        LargeWriteStreams streams = new LargeWriteStreams(LargeWriteStreams.Way.TRIED, now::get, 0);
        LargeWriteStreams.Stream a = streams.stream(1);
        int off = 0;
        for (int i = 0; i < TRIAL + 10; i++) {
            now.addAndGet(500_000);
            off += a.offReader() ? 1 : 0;
        }
        assertEquals(TRIAL / 2, off, "its tried writes off the reader, then on it (no faster off)");
        LargeWriteStreams windowed =
                new LargeWriteStreams(LargeWriteStreams.Way.TRIED, now::get, LargeWriteStreams.RECENT_MILLIS);
        LargeWriteStreams.Stream b = windowed.stream(2);
        LargeWriteStreams.Stream c = windowed.stream(3);
        for (int i = 0; i < TRIAL; i++) {
            now.addAndGet(100_000);
            assertFalse(b.offReader(), "b is not alone, write " + i);
            assertFalse(c.offReader(), "c is not alone, write " + i);
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

    /**
     * Runs the trial's writes, each costing {@code onNanos} on the reader and {@code offNanos} off
     * it (the time to the next write's header); the count until a way is kept.
     */
    private int writes(int most, long onNanos, long offNanos) {
        boolean off = false;
        for (int i = 1; i <= most; i++) {
            off = offAfter(off ? offNanos : onNanos);
            if (trial.keptOff() || isKeptOn(i)) {
                return i;
            }
        }
        return most;
    }

    /** Whether the trial has decided for the reader: past both trials and not kept off. */
    private static boolean isKeptOn(int writes) {
        return writes >= TRIAL;
    }

    private boolean offAfter(long nanos) {
        now.addAndGet(nanos);
        return trial.offReader();
    }
}
