package dev.faultdisk.nbd;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether a connection is the only one sending large writes just now. Where large writes on a Unix
 * socket may go off their connection's reader ({@code -Dfaultdisk.nbd.unixWritesOffReader=true};
 * off by default) they go only then ({@link Transmission}): the reader receiving the next payload
 * while another thread writes the last paid off for one stream of writes, but several connections
 * already overlap each other, and there the hand-off only costs. fio's sequential writes over a
 * Unix socket, QD8 each: one connection ran 6-17% faster off its reader when this was built, four
 * connections 24-90% faster on their readers (docs/BENCHMARKS.md, "Over Unix sockets large writes
 * go off the reader only for a connection writing alone"). Since the reader waits for a payload's
 * pieces with a spin and reads them straight into the payload's buffer, one connection runs
 * 1.08-1.28x faster on its reader too (docs/BENCHMARKS.md, "This round (after 1980c8a)"): hence off.
 */
final class LargeWriteStreams {
    /**
     * Another connection's large write this recent (ms) means it is still sending them, and a new
     * stream is alone only once it has sent them this long. {@code
     * -Dfaultdisk.nbd.largeWritesAloneMillis=0} makes every stream alone at once (tests of the path
     * off the reader).
     */
    static final long RECENT_MILLIS = 10;

    private final boolean enabled;
    private final LongSupplier nanoClock;
    private final long recentNanos;
    /** The connection that sent the last large write, and when; racy by design ({@link Stream#alone}). */
    private volatile long lastConnection = -1;

    private volatile long lastAt;

    LargeWriteStreams(boolean enabled, LongSupplier nanoClock, long recentMillis) {
        this.enabled = enabled;
        this.nanoClock = nanoClock;
        this.recentNanos = TimeUnit.MILLISECONDS.toNanos(recentMillis);
    }

    /**
     * With {@code faultdisk.nbd.unixWritesOffReader} (default false) and the window from {@code
     * faultdisk.nbd.largeWritesAloneMillis}, read now.
     */
    static LargeWriteStreams fromSettings() {
        return new LargeWriteStreams(
                Boolean.getBoolean("faultdisk.nbd.unixWritesOffReader"),
                System::nanoTime,
                Long.getLong("faultdisk.nbd.largeWritesAloneMillis", RECENT_MILLIS));
    }

    /** Whether a Unix socket's large writes may go off the reader at all. */
    boolean enabled() {
        return enabled;
    }

    /** One connection's view. */
    Stream stream(long connection) {
        return new Stream(connection);
    }

    /** A connection's large writes, seen against the others'; used by its reader only. */
    final class Stream {
        private final long connection;
        /**
         * When this connection last saw that another had sent the latest large write, or sent its
         * own first: a new stream proves itself alone for the window first (a client opens its
         * connections one after another, and the first would otherwise start alone).
         */
        private long otherSeenAt;

        private boolean started;

        private Stream(long connection) {
            this.connection = connection;
        }

        /**
         * Records a large write from this connection; true if it has sent them for the window and
         * no other connection sent one meanwhile. Two connections recording at once may each miss
         * the other once: that decides one write's path, and the next write sees it.
         */
        boolean alone() {
            long now = nanoClock.getAsLong();
            if (!started) {
                started = true;
                otherSeenAt = now;
            }
            long last = lastConnection;
            if (last != -1 && last != connection) {
                otherSeenAt = Math.max(otherSeenAt, lastAt);
            }
            lastAt = now;
            lastConnection = connection;
            return now - otherSeenAt >= recentNanos;
        }
    }
}
