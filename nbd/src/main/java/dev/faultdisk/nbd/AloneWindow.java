package dev.faultdisk.nbd;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether one connection is the only one doing something just now (sending large writes, serving
 * bursts of requests): it has done it for a window, and no other connection did meanwhile. Ways
 * that pay off for one stream of requests can cost where several overlap (large writes off the
 * reader, replies within a burst: docs/BENCHMARKS.md), and a trial of two ways is only fair on a
 * stream alone. Racy by design: two connections recording at once may each miss the other once;
 * that decides one request's or burst's way, and the next sees it.
 */
final class AloneWindow {
    private final LongSupplier nanoClock;
    private final long windowNanos;
    /**
     * A connection records that it did it at most this often (0: every time): connections that
     * do it thousands of times a second (bursts) would otherwise write the two shared fields on
     * each, and readers on other cpus pay for the line moving (four connections' random reads 6%).
     */
    private final long recordEveryNanos;
    /** The connection that did it last, and when. */
    private volatile long lastConnection = -1;

    private volatile long lastAt;

    /** Every time a connection does it is recorded. */
    AloneWindow(LongSupplier nanoClock, long windowMillis) {
        this(nanoClock, windowMillis, 0);
    }

    /** A connection records at most every {@code recordEveryNanos} that it did it (well inside the window). */
    AloneWindow(LongSupplier nanoClock, long windowMillis, long recordEveryNanos) {
        this.nanoClock = nanoClock;
        this.windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMillis);
        this.recordEveryNanos = recordEveryNanos;
    }

    /** One connection's view; used by its reader only. */
    Stream stream(long connection) {
        return new Stream(connection);
    }

    /** A connection's doings, seen against the others'. */
    final class Stream {
        private final long connection;
        /**
         * When this connection last saw that another had done it last, or did it first: a new
         * stream proves itself alone for the window first (a client opens its connections one after
         * another, and the first would otherwise start alone).
         */
        private long otherSeenAt;

        private boolean started;
        /** When this connection last recorded itself in the shared fields. */
        private long recordedAt;

        private Stream(long connection) {
            this.connection = connection;
        }

        /** Records that this connection did it now; true if it has for the window and no other did meanwhile. */
        boolean alone() {
            long now = nanoClock.getAsLong();
            boolean first = !started;
            if (first) {
                started = true;
                otherSeenAt = now;
            }
            long last = lastConnection;
            if (last != -1 && last != connection) {
                otherSeenAt = Math.max(otherSeenAt, lastAt);
            }
            if (first || now - recordedAt >= recordEveryNanos) {
                recordedAt = now;
                lastAt = now;
                lastConnection = connection;
            }
            return now - otherSeenAt >= windowNanos;
        }
    }
}
