package dev.faultdisk.nbd;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * When connections' readers send the replies they have built. A reader always sends them when its
 * input holds no whole request (the end of a burst); within a burst it may also send them every
 * {@code every} requests, so that a client with a burst in flight gets the first answers, and
 * sends more, while the rest is served. Which pays depends on the transport, the client, the
 * machine and the other connections: over TLS on a Unix socket within (1.39x on 4 KiB random r/w),
 * over TLS on TCP at the end (0.93x within: fio, the busy end, decrypts more records); over a plain
 * Unix socket within was 0.94x on one machine and 1.19-1.32x on another for one connection, but
 * 0.88-0.95x there for four at once (docs/BENCHMARKS.md, "Replies within a burst, tried").
 *
 * <p>So on plaintext connections, by default, a connection serving bursts alone ({@link
 * AloneWindow}) tries the ways on them ({@link PaceTrial}: its pieces bursts, its units requests)
 * and keeps the fastest: at the end, within every {@code every} requests, and within every half of
 * that. The half is a way of its own as no interval suits every client: QEMU's 4 KiB writes over a
 * Unix socket went 4% faster sent every 2 requests than every 4, fio's reads at QD64 7% slower
 * (docs/BENCHMARKS.md, "Three ways tried"). Connections that overlap send at the end (one choosing
 * within for itself would gain its client a larger share, not the server more pace). The trial is
 * the connection's, not the server's: which way is faster depends on the workload too (a trial the
 * server made on a client's sequential reads, where the two ways are level, kept the end for the
 * random reads after it, 1.32x slower). {@code -Dfaultdisk.nbd.flushWithinBursts=true} or {@code
 * false} fixes the way for every plaintext connection (true: every {@code every} requests).
 */
final class ReplyFlushes {
    /** The ways plaintext connections may take: {@code faultdisk.nbd.flushWithinBursts}. */
    enum Way {
        /** {@code false}: at the end of a burst only. */
        AT_END,
        /** {@code true}: also within it. */
        WITHIN,
        /** {@code try}, the default: the server tries the ways on a connection alone and keeps the fastest. */
        TRIED
    }

    /** Another connection's burst this recent (ms) means they overlap. */
    static final long RECENT_MILLIS = 10;
    /** Sending within a burst, and more often, costs the client more, smaller reads: kept only if this much faster (percent). */
    private static final int WITHIN_MARGIN_PERCENT = 3;
    /**
     * Blocks of 0.05 s untimed and 0.1 s timed (0.9 s of bursts for three ways: a short connection,
     * such as a benchmark's run of a few seconds, spends little of its life trying; blocks twice as
     * long cost such runs 0-3%), the way kept ten minutes.
     */
    static final PaceTrial.Timing TRIAL = new PaceTrial.Timing(
            TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.MINUTES.toNanos(10));

    private final Way way;
    /** Requests between sends within a burst; 0: never within. */
    private final int every;
    /** Requests between sends in each way a trial tries: 0 (at the end), {@link #every}, and its half if that is 1 or more. */
    private final int[] tried;

    private final LongSupplier nanoClock;

    private final AloneWindow alone;

    ReplyFlushes(Way way, int every, LongSupplier nanoClock) {
        this.way = way;
        this.every = Math.max(0, every); // below 0 is never, as 0
        this.tried = this.every / 2 >= 1 ? new int[] {0, this.every, this.every / 2} : new int[] {0, this.every};
        this.nanoClock = nanoClock;
        this.alone = new AloneWindow(nanoClock, RECENT_MILLIS, TimeUnit.MILLISECONDS.toNanos(RECENT_MILLIS) / 8);
    }

    /**
     * With {@code faultdisk.nbd.flushWithinBursts} ({@code try}, the default, {@code true} or
     * {@code false}) and {@code faultdisk.nbd.flushEvery} (requests between sends within a burst,
     * default 4, 0 for never), read now.
     */
    static ReplyFlushes fromSettings() {
        return new ReplyFlushes(
                way(System.getProperty("faultdisk.nbd.flushWithinBursts", "try")),
                Integer.getInteger("faultdisk.nbd.flushEvery", 4),
                System::nanoTime);
    }

    /** The way {@code faultdisk.nbd.flushWithinBursts} names; an unknown value is refused. */
    static Way way(String setting) {
        return PaceTrial.way("faultdisk.nbd.flushWithinBursts", setting, Way.TRIED, Way.WITHIN, Way.AT_END);
    }

    /** The same sends, another way for plaintext connections opened from now on. */
    ReplyFlushes withWay(Way other, LongSupplier nanoClock) {
        return new ReplyFlushes(other, every, nanoClock);
    }

    /** A connection's bursts: over TLS on a Unix socket within, over TLS on TCP at the end, else the server's way. */
    Bursts connection(long id, boolean overTls, boolean overTcp) {
        Way fixed = overTls ? (overTcp ? Way.AT_END : Way.WITHIN) : way;
        return new Bursts(alone.stream(id), fixed);
    }

    /** A connection's bursts of requests; used by its reader only. */
    final class Bursts {
        private final AloneWindow.Stream bursts;
        private final Way way;
        /** The connection's trial (its ways in {@link #tried}), made at its first burst alone; null before or if not tried. */
        private PaceTrial trial;

        /** Requests between sends within this burst; 0: at its end only. */
        private int sendEvery;
        /** Requests served since the replies were last sent, and in this burst. */
        private int served;

        private int inBurst;

        private Bursts(AloneWindow.Stream bursts, Way way) {
            this.bursts = bursts;
            this.way = way;
            this.sendEvery = way == Way.WITHIN ? every : 0;
        }

        /** A request was served: true if the replies built so far go now. */
        boolean served() {
            inBurst++;
            if (sendEvery == 0 || ++served < sendEvery) {
                return false;
            }
            served = 0;
            return true;
        }

        /** The replies were sent at the end of a burst: the way of the next one is chosen. */
        void burstEnded() {
            int requests = inBurst;
            inBurst = 0;
            served = 0;
            if (way != Way.TRIED || requests == 0 || every == 0) {
                return;
            }
            if (!bursts.alone()) {
                sendEvery = 0;
                return;
            }
            if (trial == null) {
                trial = new PaceTrial(nanoClock, tried.length, WITHIN_MARGIN_PERCENT, TRIAL);
            }
            sendEvery = tried[trial.nextAfter(requests)];
        }

        /** Whether this connection tries the ways now (false before its first burst alone). */
        boolean trying() {
            return trial != null && trial.trying();
        }

        /** Whether replies go within bursts now (the way kept, or the one being tried). */
        boolean within() {
            return sendEvery > 0;
        }

        /** Requests between sends within bursts now; 0 at the end only. */
        int sendEvery() {
            return sendEvery;
        }
    }
}
