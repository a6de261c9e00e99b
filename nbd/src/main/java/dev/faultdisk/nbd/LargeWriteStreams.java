package dev.faultdisk.nbd;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether a connection is the only one sending large writes just now, and which way its large
 * writes on a Unix socket go. They may go off the connection's reader only then ({@link
 * Transmission}): the reader receiving the next payload while another thread writes the last paid
 * off for one stream of writes, but several connections already overlap each other, and there the
 * hand-off only costs (fio's sequential writes over a Unix socket, QD8 each: four connections
 * 24-90% faster on their readers, docs/BENCHMARKS.md, "Over Unix sockets large writes go off the
 * reader only for a connection writing alone"). For one connection alone the faster way depends
 * on the machine: a write on a thread of its own while the reader receives the next payload ran
 * 1.2-1.4x and 1.27-1.46x faster on machines where writing a MiB into the image cost about as
 * much as receiving it, and 0.80-0.90x where it cost far less and the hand-off was the larger cost
 * (docs/BENCHMARKS.md, "Large writes over a Unix socket tried both ways"). So by default the server
 * tries both on the writes of whichever connection writes alone ({@link PaceTrial}, its units
 * bytes) and every connection takes the way kept: it is the machine's. {@code
 * -Dfaultdisk.nbd.unixWritesOffReader=true} or {@code false} fixes the way instead.
 */
final class LargeWriteStreams {
    /**
     * Another connection's large write this recent (ms) means it is still sending them, and a new
     * stream is alone only once it has sent them this long. {@code
     * -Dfaultdisk.nbd.largeWritesAloneMillis=0} makes every stream alone at once (tests of the path
     * off the reader).
     */
    static final long RECENT_MILLIS = 10;

    /** The ways a connection writing alone may take: {@code faultdisk.nbd.unixWritesOffReader}. */
    enum Way {
        /** {@code false}: on the reader. */
        ON_READER,
        /** {@code true}: off it. */
        OFF_READER,
        /** {@code try}, the default: the server tries both and keeps the faster. */
        TRIED
    }

    /** Off the reader costs a hand-off in CPU: kept only if this much faster (percent). */
    private static final int OFF_MARGIN_PERCENT = 3;
    /**
     * Blocks of 0.3 s untimed and 0.5 s timed (3.2 s of writing), the way kept ten minutes: the way
     * off the reader reaches its pace only after a while (blocks of 80 writes saw none of it).
     */
    static final PaceTrial.Timing TRIAL = new PaceTrial.Timing(
            TimeUnit.MILLISECONDS.toNanos(300), TimeUnit.MILLISECONDS.toNanos(500), TimeUnit.MINUTES.toNanos(10));

    private final Way way;

    /**
     * Which way a connection writing alone takes, where that is tried (the server's; its second
     * way is off the reader; the lock of two connections at a hand-over); else null.
     */
    private final PaceTrial trial;
    /** Which connection sends large writes alone. */
    private final AloneWindow alone;

    LargeWriteStreams(Way way, LongSupplier nanoClock, long recentMillis) {
        this.way = way;
        this.trial = way == Way.TRIED ? new PaceTrial(nanoClock, 2, OFF_MARGIN_PERCENT, TRIAL) : null;
        this.alone = new AloneWindow(nanoClock, recentMillis);
    }

    /**
     * With {@code faultdisk.nbd.unixWritesOffReader} ({@code try}, the default, {@code true} or
     * {@code false}) and the window from {@code faultdisk.nbd.largeWritesAloneMillis}, read now.
     */
    static LargeWriteStreams fromSettings() {
        return new LargeWriteStreams(
                way(System.getProperty("faultdisk.nbd.unixWritesOffReader", "try")),
                System::nanoTime,
                Long.getLong("faultdisk.nbd.largeWritesAloneMillis", RECENT_MILLIS));
    }

    /** The way {@code faultdisk.nbd.unixWritesOffReader} names; an unknown value is refused. */
    static Way way(String setting) {
        return PaceTrial.way("faultdisk.nbd.unixWritesOffReader", setting, Way.TRIED, Way.OFF_READER, Way.ON_READER);
    }

    /** Whether a Unix socket's large writes may go off the reader at all. */
    boolean enabled() {
        return way != Way.ON_READER;
    }

    /** One connection's view. */
    Stream stream(long connection) {
        return new Stream(alone.stream(connection));
    }

    /** A connection's large writes, seen against the others'; used by its reader only. */
    final class Stream {
        private final AloneWindow.Stream writes;

        private Stream(AloneWindow.Stream writes) {
            this.writes = writes;
        }

        /** Records a large write from this connection; true if no other connection sends them just now. */
        boolean alone() {
            return writes.alone();
        }

        /** Records a large write of {@code length} bytes from this connection; true if it goes off the reader. */
        boolean offReader(long length) {
            if (!writes.alone()) {
                return false;
            }
            if (trial == null) {
                return true;
            }
            // Two readers may each think they are alone once, at a hand-over.
            synchronized (trial) {
                return trial.next(length) == 1;
            }
        }
    }
}
