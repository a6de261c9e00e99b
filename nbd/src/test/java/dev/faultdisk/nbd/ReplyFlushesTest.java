package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * When readers send their replies: over TLS by transport; on plaintext connections the fastest of
 * the ways (at the end of bursts, within every fourth request, every second), found on the bursts
 * of a connection alone (a clock that advances by what a request costs each way), and at the end of
 * bursts where connections overlap; or the way the setting fixes. Within a burst, every fourth
 * request.
 */
class ReplyFlushesTest {
    private static final long TRIAL_NANOS = ReplyFlushes.TRIAL.trialNanos(3);
    private static final long WINDOW = ReplyFlushes.RECENT_MILLIS * 1_000_000;
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ReplyFlushes tried = new ReplyFlushes(ReplyFlushes.Way.TRIED, 4, now::get);

    @Test
    void withinABurstIsKeptWhereTheClientKeepsAFasterPaceSo() {
        ReplyFlushes.Bursts a = tried.connection(1, false, false);
        long took = tryWays(a, 5_000, 4_000, 4_000);
        assertTrue(took >= TRIAL_NANOS && took < TRIAL_NANOS + 1_000_000, "the trial's length: " + took);
        assertTrue(a.within(), "within kept");
        assertEveryFourth(a);
    }

    @Test
    void everySecondRequestIsKeptOnlyWhereItIsFasterStillByTheMargin() {
        ReplyFlushes.Bursts a = tried.connection(1, false, false);
        tryWays(a, 5_000, 4_000, 3_800);
        assertEquals(2, a.sendEvery(), "every second request kept");
        for (int i = 0; i < 10; i++) {
            assertTrue(burst(a, 16, 3_800), "burst " + i + " sends within");
        }
        now.addAndGet(WINDOW); // a has stopped
        ReplyFlushes.Bursts b = tried.connection(2, false, false);
        tryWays(b, 5_000, 4_000, 3_950); // 1.3% faster: not worth the client's extra reads
        assertEquals(4, b.sendEvery(), "every fourth kept");
        now.addAndGet(WINDOW);
        ReplyFlushes.Bursts c = new ReplyFlushes(ReplyFlushes.Way.TRIED, 1, now::get).connection(3, false, false);
        long took = tryWays(c, 5_000, 4_000, 4_000);
        assertEquals(ReplyFlushes.TRIAL.trialNanos(2), took, 1_000_000, "every request has no half: two ways");
        assertEquals(1, c.sendEvery());
    }

    @Test
    void theEndOfABurstIsKeptWhereItIsFasterOrWithinIsNotFasterByTheMargin() {
        ReplyFlushes.Bursts a = tried.connection(1, false, false);
        tryWays(a, 4_000, 5_000, 5_000);
        assertFalse(a.within(), "at the end kept");
        for (int i = 0; i < 100; i++) {
            assertFalse(burst(a, 16, 4_000), "burst " + i + " after the trial sends nothing within");
        }
        now.addAndGet(WINDOW); // a has stopped
        ReplyFlushes.Bursts b = tried.connection(2, false, false);
        tryWays(b, 4_000, 3_920, 3_920); // 2% faster within: not worth the client's extra reads
        assertFalse(b.within(), "at the end kept");
    }

    @Test
    void bothWaysAreTriedAgainOnceTheWayHasBeenKeptItsTime() {
        ReplyFlushes.Bursts a = tried.connection(1, false, false);
        tryWays(a, 5_000, 4_000, 4_000);
        assertTrue(a.within());
        now.addAndGet(ReplyFlushes.TRIAL.keepNanos());
        burst(a, 16, 4_000);
        assertTrue(a.trying(), "tried again");
        assertFalse(a.within(), "the trial starts at the end of bursts");
        tryWays(a, 4_000, 5_000, 5_000); // another client, or load: the end is faster now
        assertFalse(a.within());
    }

    @Test
    void connectionsThatOverlapSendAtTheEndAndOneAloneTakesTheWayKept() {
        ReplyFlushes.Bursts a = tried.connection(1, false, false);
        tryWays(a, 5_000, 4_000, 4_000);
        assertTrue(a.within());
        ReplyFlushes.Bursts b = tried.connection(2, false, false);
        for (int i = 0; i < 20; i++) {
            burst(b, 16, 4_000); // b's first burst: a sees it at the end of its next
            burst(a, 16, 4_000);
            assertFalse(a.within(), "a overlaps b");
            assertFalse(b.within(), "b overlaps a");
        }
        now.addAndGet(WINDOW); // b has stopped
        burst(a, 16, 4_000);
        assertTrue(a.within(), "a alone again, the way it kept");
        assertFalse(a.trying(), "no new trial");
    }

    @Test
    void overTlsTheWayIsTheTransportsAndTheSettingFixesItOnPlaintext() {
        ReplyFlushes.Bursts unixTls = tried.connection(1, true, false);
        assertTrue(unixTls.within(), "TLS on a Unix socket: within");
        assertEveryFourth(unixTls);
        ReplyFlushes within = new ReplyFlushes(ReplyFlushes.Way.WITHIN, 4, now::get);
        assertFalse(within.connection(2, true, true).within(), "TLS on TCP: at the end");
        assertTrue(within.connection(3, false, true).within(), "plaintext TCP: the setting's");
        ReplyFlushes.Bursts atEnd = new ReplyFlushes(ReplyFlushes.Way.AT_END, 4, now::get).connection(4, false, false);
        for (int i = 0; i < 100; i++) {
            assertFalse(burst(atEnd, 16, 4_000));
        }
        ReplyFlushes never = new ReplyFlushes(ReplyFlushes.Way.TRIED, 0, now::get);
        ReplyFlushes.Bursts plain = never.connection(5, false, false);
        now.addAndGet(WINDOW);
        assertFalse(burst(plain, 16, 4_000));
        assertFalse(burst(plain, 16, 4_000));
        assertFalse(plain.trying(), "flushEvery=0: nothing to try");
        assertFalse(never.connection(6, true, false).within(), "flushEvery=0: never within, TLS or not");
        ReplyFlushes.Bursts negative =
                new ReplyFlushes(ReplyFlushes.Way.WITHIN, -1, now::get).connection(7, false, false);
        assertFalse(burst(negative, 16, 4_000), "below 0 is never, as 0");
    }

    @Test
    void theEndOfABurstStartsTheCountAgain() {
        ReplyFlushes.Bursts b = new ReplyFlushes(ReplyFlushes.Way.WITHIN, 4, now::get).connection(1, false, false);
        assertFalse(b.served());
        assertFalse(b.served());
        b.burstEnded();
        assertFalse(b.served());
        assertFalse(b.served());
        assertFalse(b.served());
        assertTrue(b.served(), "four since the end of the last burst");
    }

    @Test
    void theWayIsTriedByDefaultOrFixedBySetting() {
        assertEquals(ReplyFlushes.Way.TRIED, ReplyFlushes.way("try"));
        assertEquals(ReplyFlushes.Way.WITHIN, ReplyFlushes.way(" True"));
        assertEquals(ReplyFlushes.Way.AT_END, ReplyFlushes.way("false"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReplyFlushes.way("4"));
        assertTrue(e.getMessage().contains("flushWithinBursts is try, true or false"), e.getMessage());
    }

    /**
     * Bursts of 16 requests, each request taking {@code atEndNanos} while replies go at the end
     * of bursts, {@code everyFourthNanos} while they go every fourth request and {@code
     * everySecondNanos} every second, until the connection's trial has started (a new one is alone
     * after the window) and kept a way; the trial's time.
     */
    private long tryWays(ReplyFlushes.Bursts b, long atEndNanos, long everyFourthNanos, long everySecondNanos) {
        long start = now.get();
        while (!b.trying()) { // a new connection's bursts: alone once it has served them for the window
            assertTrue(now.get() - start <= WINDOW + 1_000_000, "the trial starts");
            burst(b, 16, atEndNanos);
        }
        long trial = now.get();
        while (b.trying()) {
            assertTrue(now.get() - trial < 20 * TRIAL_NANOS, "the trial ends");
            long nanos = switch (b.sendEvery()) {
                case 0 -> atEndNanos;
                case 2 -> everySecondNanos;
                default -> everyFourthNanos; // 4, or 1 where the half is not tried
            };
            burst(b, 16, nanos);
        }
        return now.get() - trial;
    }

    /** A burst of {@code requests}, each taking {@code nanos}; true if any sent its replies within it. */
    private boolean burst(ReplyFlushes.Bursts b, int requests, long nanos) {
        boolean sent = false;
        for (int i = 0; i < requests; i++) {
            now.addAndGet(nanos);
            sent |= b.served();
        }
        b.burstEnded();
        return sent;
    }

    private void assertEveryFourth(ReplyFlushes.Bursts b) {
        b.burstEnded();
        for (int i = 1; i <= 400; i++) {
            now.addAndGet(4_000);
            assertEquals(i % 4 == 0, b.served(), "request " + i);
        }
    }
}
