package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertFalse;
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
    private static final long TRIAL_NANOS = LargeWriteStreams.TRIAL.trialNanos();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final PaceTrial trial = new PaceTrial(now::get, 3, LargeWriteStreams.TRIAL);

    @Test
    void offTheReaderIsKeptWhereItIsFaster() {
        long took = tryBoth(700_000, 480_000, 0);
        assertTrue(trial.keptSecond(), "off the reader kept");
        assertTrue(took >= TRIAL_NANOS && took < TRIAL_NANOS + 2_000_000, "the trial's length: " + took);
        for (int i = 0; i < 1000; i++) {
            assertTrue(offAfter(480_000), "write " + i + " after the trial");
        }
    }

    @Test
    void theReaderIsKeptWhereItIsFasterOrOffIsNotFasterByTheMargin() {
        tryBoth(300_000, 340_000, 0);
        assertFalse(trial.trying());
        assertFalse(trial.keptSecond(), "on the reader kept");
        for (int i = 0; i < 1000; i++) {
            assertFalse(offAfter(300_000), "write " + i + " after the trial");
        }
        trial.restart();
        tryBoth(300_000, 295_000, 0); // 1.7% faster off: not worth the hand-off's CPU
        assertFalse(trial.keptSecond(), "on the reader kept");
    }

    @Test
    void bothWaysAreTriedAgainOnceTheWayHasBeenKeptItsTime() {
        tryBoth(700_000, 480_000, 0);
        assertTrue(trial.keptSecond());
        now.addAndGet(LargeWriteStreams.TRIAL.keepNanos() - 1);
        assertTrue(offAfter(0), "still kept");
        assertTrue(trial.keptSecond());
        assertFalse(offAfter(1), "tried again, on the reader first");
        assertTrue(trial.trying());
        // The machine changed (another load, say): on the reader is faster now.
        tryBoth(300_000, 480_000, 0);
        assertFalse(trial.keptSecond(), "on the reader kept this time");
    }

    @Test
    void pausesCountForNeitherWay() {
        // Off the reader is faster, but its client stops for 60 ms after every tenth write.
        tryBoth(700_000, 480_000, 60_000_000);
        assertTrue(trial.keptSecond(), "off the reader kept: the pauses were not its cost");
    }

    /**
     * 1 MiB writes, each taking {@code onNanos} on the reader and {@code offNanos} off it to the
     * next write's header, and after every tenth write off the reader a pause of {@code pauseNanos}
     * (0: none), until a way is kept; the time that took.
     */
    private long tryBoth(long onNanos, long offNanos, long pauseNanos) {
        long start = now.get();
        boolean off = trial.second(MIB);
        for (int i = 1; trial.trying(); i++) {
            assertTrue(now.get() - start < 20 * TRIAL_NANOS, "the trial ends");
            now.addAndGet(off ? offNanos : onNanos);
            if (off && pauseNanos > 0 && i % 10 == 0) {
                now.addAndGet(pauseNanos);
            }
            off = trial.second(MIB);
        }
        return now.get() - start;
    }

    private boolean offAfter(long nanos) {
        now.addAndGet(nanos);
        return trial.second(MIB);
    }
}
