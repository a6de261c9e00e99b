package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Large writes tried on the reader and off it, with a clock that advances by what each way costs
 * a write: the faster way is kept, for a while, then both are tried again; pauses count for
 * neither way; the way kept is the server's, so a new connection takes it at once; and writes
 * that are not one connection's alone stay on the reader.
 */
class WritePathTrialTest {
    private static final long MIB = 1 << 20;
    private static final long TRIAL_NANOS =
            2 * WritePathTrial.BLOCKS * (WritePathTrial.SETTLE_NANOS + WritePathTrial.TIMED_NANOS);
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final WritePathTrial trial = new WritePathTrial(now::get);

    @Test
    void offTheReaderIsKeptWhereItIsFaster() {
        long took = tryBoth(700_000, 480_000, 0);
        assertTrue(trial.keptOff(), "off the reader kept");
        assertTrue(took >= TRIAL_NANOS && took < TRIAL_NANOS + 2_000_000, "the trial's length: " + took);
        for (int i = 0; i < 1000; i++) {
            assertTrue(offAfter(480_000), "write " + i + " after the trial");
        }
    }

    @Test
    void theReaderIsKeptWhereItIsFasterOrOffIsNotFasterByTheMargin() {
        tryBoth(300_000, 340_000, 0);
        assertFalse(trial.trying());
        assertFalse(trial.keptOff(), "on the reader kept");
        for (int i = 0; i < 1000; i++) {
            assertFalse(offAfter(300_000), "write " + i + " after the trial");
        }
        trial.restart();
        tryBoth(300_000, 295_000, 0); // 1.7% faster off: not worth the hand-off's CPU
        assertFalse(trial.keptOff(), "on the reader kept");
    }

    @Test
    void bothWaysAreTriedAgainOnceTheWayHasBeenKeptItsTime() {
        tryBoth(700_000, 480_000, 0);
        assertTrue(trial.keptOff());
        now.addAndGet(WritePathTrial.KEEP_NANOS - 1);
        assertTrue(offAfter(0), "still kept");
        assertTrue(trial.keptOff());
        assertFalse(offAfter(1), "tried again, on the reader first");
        assertTrue(trial.trying());
        // The machine changed (another load, say): on the reader is faster now.
        tryBoth(300_000, 480_000, 0);
        assertFalse(trial.keptOff(), "on the reader kept this time");
    }

    @Test
    void pausesCountForNeitherWay() {
        // Off the reader is faster, but its client stops for 60 ms after every tenth write.
        tryBoth(700_000, 480_000, 60_000_000);
        assertTrue(trial.keptOff(), "off the reader kept: the pauses were not its cost");
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

    /**
     * 1 MiB writes, each taking {@code onNanos} on the reader and {@code offNanos} off it to the
     * next write's header, and after every tenth write off the reader a pause of {@code pauseNanos}
     * (0: none), until a way is kept; the time that took.
     */
    private long tryBoth(long onNanos, long offNanos, long pauseNanos) {
        long start = now.get();
        boolean off = trial.offReader(MIB);
        for (int i = 1; trial.trying(); i++) {
            assertTrue(now.get() - start < 20 * TRIAL_NANOS, "the trial ends");
            now.addAndGet(off ? offNanos : onNanos);
            if (off && pauseNanos > 0 && i % 10 == 0) {
                now.addAndGet(pauseNanos);
            }
            off = trial.offReader(MIB);
        }
        return now.get() - start;
    }

    private boolean offAfter(long nanos) {
        now.addAndGet(nanos);
        return trial.offReader(MIB);
    }
}
