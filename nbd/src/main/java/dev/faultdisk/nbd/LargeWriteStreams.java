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
 * on the machine, so by default the server tries both ({@link WritePathTrial}); {@code
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

    private final Way way;
    private final LongSupplier nanoClock;
    /** Which way a connection writing alone takes, where that is tried (the server's); else null. */
    private final WritePathTrial trial;

    private final long recentNanos;
    /** The connection that sent the last large write, and when; racy by design ({@link Stream#alone}). */
    private volatile long lastConnection = -1;

    private volatile long lastAt;

    LargeWriteStreams(Way way, LongSupplier nanoClock, long recentMillis) {
        this.way = way;
        this.trial = way == Way.TRIED ? new WritePathTrial(nanoClock) : null;
        this.nanoClock = nanoClock;
        this.recentNanos = TimeUnit.MILLISECONDS.toNanos(recentMillis);
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
        return switch (setting.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> Way.OFF_READER;
            case "false" -> Way.ON_READER;
            case "try" -> Way.TRIED;
            default ->
                throw new IllegalArgumentException(
                        "faultdisk.nbd.unixWritesOffReader is try, true or false, not '" + setting + "'");
        };
    }

    /** Whether a Unix socket's large writes may go off the reader at all. */
    boolean enabled() {
        return way != Way.ON_READER;
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

        /** Records a large write of {@code length} bytes from this connection; true if it goes off the reader. */
        boolean offReader(long length) {
            return alone() && (trial == null || trial.offReader(length));
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
