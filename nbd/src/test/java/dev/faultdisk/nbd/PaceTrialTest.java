package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Two ways tried on 1 MiB writes (on the reader, off it, as {@link LargeWriteStreams} tries them),
 * with a clock that advances by what each way costs a write: the faster way is kept, for a while,
 * then both are tried again; the second way only if faster by the margin; pauses count for neither
 * way.
 */
class PaceTrialTest {
    private static final long MIB = 1 << 20;
    private static final long TRIAL_NANOS = LargeWriteStreams.TRIAL.trialNanos(2);
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final PaceTrial trial = new PaceTrial(now::get, 2, 3, LargeWriteStreams.TRIAL);

    @Test
    void offTheReaderIsKeptWhereItIsFaster() {
        long took = tryBoth(700_000, 480_000, 0);
        assertEquals(1, trial.kept(), "off the reader kept");
        assertTrue(took >= TRIAL_NANOS && took < TRIAL_NANOS + 2_000_000, "the trial's length: " + took);
        for (int i = 0; i < 1000; i++) {
            assertTrue(offAfter(480_000), "write " + i + " after the trial");
        }
    }

    @Test
    void theReaderIsKeptWhereItIsFasterOrOffIsNotFasterByTheMargin() {
        tryBoth(300_000, 340_000, 0);
        assertFalse(trial.trying());
        assertEquals(0, trial.kept(), "on the reader kept");
        for (int i = 0; i < 1000; i++) {
            assertFalse(offAfter(300_000), "write " + i + " after the trial");
        }
        trial.restart();
        tryBoth(300_000, 295_000, 0); // 1.7% faster off: not worth the hand-off's CPU
        assertEquals(0, trial.kept(), "on the reader kept");
    }

    @Test
    void bothWaysAreTriedAgainOnceTheWayHasBeenKeptItsTime() {
        tryBoth(700_000, 480_000, 0);
        assertEquals(1, trial.kept());
        now.addAndGet(LargeWriteStreams.TRIAL.keepNanos() - 1);
        assertTrue(offAfter(0), "still kept");
        assertEquals(1, trial.kept());
        assertFalse(offAfter(1), "tried again, on the reader first");
        assertTrue(trial.trying());
        // The machine changed (another load, say): on the reader is faster now.
        tryBoth(300_000, 480_000, 0);
        assertEquals(0, trial.kept(), "on the reader kept this time");
    }

    @Test
    void pausesCountForNeitherWay() {
        // Off the reader is faster, but its client stops for 60 ms after every tenth write.
        tryBoth(700_000, 480_000, 60_000_000);
        assertEquals(1, trial.kept(), "off the reader kept: the pauses were not its cost");
    }

    @Test
    void ofThreeWaysTheFastestIsKeptALaterOneOnlyByTheMargin() {
        assertEquals(2, tryThree(new long[] {500_000, 400_000, 300_000}), "the fastest, the last");
        assertEquals(1, tryThree(new long[] {500_000, 400_000, 395_000}), "the last is not faster by the margin");
        assertEquals(
                0,
                tryThree(new long[] {300_000, 400_000, 295_000}),
                "the last is not faster by the margin than the first");
        assertEquals(2, tryThree(new long[] {300_000, 600_000, 250_000}), "the second is slower, the last faster");
        assertThrows(IllegalArgumentException.class, () -> new PaceTrial(now::get, 1, 3, LargeWriteStreams.TRIAL));
    }

    /** A trial of three ways on pieces of 1 MiB, each taking the way's nanoseconds; the way kept. */
    private int tryThree(long[] nanos) {
        PaceTrial three = new PaceTrial(now::get, 3, 3, LargeWriteStreams.TRIAL);
        long start = now.get();
        int[] tried = new int[3];
        int way = three.next(MIB);
        while (three.trying()) {
            assertTrue(now.get() - start < 20 * LargeWriteStreams.TRIAL.trialNanos(3), "the trial ends");
            tried[way]++;
            now.addAndGet(nanos[way]);
            way = three.next(MIB);
        }
        for (int w = 0; w < 3; w++) {
            assertTrue(tried[w] > 0, "way " + w + " tried");
        }
        assertEquals(way, three.kept());
        return way;
    }

    /**
     * 1 MiB writes, each taking {@code onNanos} on the reader and {@code offNanos} off it to the
     * next write's header, and after every tenth write off the reader a pause of {@code pauseNanos}
     * (0: none), until a way is kept; the time that took.
     */
    private long tryBoth(long onNanos, long offNanos, long pauseNanos) {
        long start = now.get();
        boolean off = trial.next(MIB) == 1;
        for (int i = 1; trial.trying(); i++) {
            assertTrue(now.get() - start < 20 * TRIAL_NANOS, "the trial ends");
            now.addAndGet(off ? offNanos : onNanos);
            if (off && pauseNanos > 0 && i % 10 == 0) {
                now.addAndGet(pauseNanos);
            }
            off = trial.next(MIB) == 1;
        }
        return now.get() - start;
    }

    private boolean offAfter(long nanos) {
        now.addAndGet(nanos);
        return trial.next(MIB) == 1;
    }
}
