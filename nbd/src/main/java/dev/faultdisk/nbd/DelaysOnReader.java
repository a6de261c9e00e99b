package dev.faultdisk.nbd;

import dev.faultdisk.device.TimerSlack;
import java.io.IOException;

/**
 * A connection's reader serving its own delayed requests: while some wait and no request is
 * buffered, it waits for input no longer than the earliest deadline ({@link ReaderPoll}) and runs
 * what falls due ({@link DelayWaiter#runDue}), so that one thread takes a request from the socket
 * to its reply; the delay thread stands by. Only a platform reader of a plain (TCP or Unix socket)
 * connection does (a virtual one would hold its carrier; TLS may hold input the socket no longer
 * shows). On unless {@code -Dfaultdisk.nbd.delayOnReader=false}
 * (docs/BENCHMARKS.md). One per connection, used by its reader; the poll is the connection's
 * ({@link ReaderPollHolder}), which wakes it when the connection closes.
 */
final class DelaysOnReader {
    static final boolean ENABLED = !"false".equals(System.getProperty("faultdisk.nbd.delayOnReader"));

    private final Connection connection;
    private final DelayWaiter delays;
    private final ReplyWriter writer;
    /** The platform reader whose timer slack was made least, so that its polls end on time. */
    private Thread slackThread;

    DelaysOnReader(Connection connection, DelayWaiter delays, ReplyWriter writer) {
        this.connection = connection;
        this.delays = delays;
        this.writer = writer;
    }

    /**
     * While delayed requests wait, waits for input no longer than the next deadline and runs what
     * falls due, until input comes or nothing waits; the reader then reads as it would without.
     */
    void serveUntilInput() throws IOException {
        boolean serves = delays.nextDue() != Long.MAX_VALUE // some wait (the common case is none)
                && !Thread.currentThread().isVirtual()
                && !connection.input().secured();
        ReaderPoll poll = serves ? connection.poll().get() : null;
        if (poll == null) {
            delays.readerServes(false);
            return;
        }
        if (slackThread != Thread.currentThread()) {
            slackThread = Thread.currentThread();
            TimerSlack.minimize(); // a poll's timeout otherwise ends up to 50 µs late
        }
        delays.readerServes(true);
        while (true) {
            delays.runDue();
            long next = delays.nextDue();
            if (next == Long.MAX_VALUE) {
                delays.readerServes(false); // the reader may now block for long: the thread serves
                return;
            }
            long wait = next - System.nanoTime();
            if (wait <= 0) {
                continue;
            }
            writer.flush();
            if (poll.await(wait) || connection.isClosing()) {
                return; // input, or the connection closed under the wait: the read finds out which
            }
        }
    }
}
