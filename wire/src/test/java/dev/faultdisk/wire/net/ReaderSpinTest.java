package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader's spin on a clock the test moves: a new connection blocks at once; after a short
 * wait the next one looks for input first, at most for the window; a long wait (an idle
 * connection) turns the looking off again; a window of 0 never looks; past the budget of
 * spinning readers a busy one blocks at once. And on a real Unix socket, where it counts the
 * waiting bytes without touching the channel's blocking mode.
 */
class ReaderSpinTest {
    private static final long WINDOW = 50_000;
    private static final long BUSY = 1_000_000;

    private final Clock clock = new Clock();
    private final Input in = new Input();

    /** A clock that moves {@code step} ns on every reading, plus what a read takes. */
    private static final class Clock {
        long now;
        long step = 1_000;

        long read() {
            now += step;
            return now;
        }
    }

    /** An input stream that has nothing for its first {@code emptyPolls} asks of {@code available()}. */
    private static final class Input extends InputStream {
        final List<String> calls = new ArrayList<>();
        int emptyPolls;

        @Override
        public int available() {
            calls.add("available");
            return emptyPolls-- > 0 ? 0 : 1;
        }

        @Override
        public int read() {
            throw new AssertionError("the spin reads through its Read only");
        }

        @Override
        public int read(byte[] b, int off, int len) {
            throw new AssertionError("the spin reads through its Read only");
        }
    }

    /** A spin on the test's clock and input, looking for {@code window} ns within {@code spinners}. */
    private ReaderSpin spin(long window, AtomicInteger spinners) {
        return new ReaderSpin(in, new InputSpin(window, clock::read, spinners), BUSY, clock::read);
    }

    /** A read that finds input after {@code nanos}. */
    private int readTaking(long nanos) {
        in.calls.add("read");
        clock.now += nanos;
        return 7;
    }

    /** A spin whose connection has just shown it is busy (one short wait), its calls cleared. */
    private ReaderSpin busy() throws IOException {
        ReaderSpin spin = spin(WINDOW, new AtomicInteger(1));
        spin.await(() -> readTaking(0));
        assertTrue(spin.spinning());
        in.calls.clear();
        return spin;
    }

    @Test
    void aNewConnectionBlocksAtOnceAndAShortWaitMakesTheNextOneLookFirst() throws Exception {
        ReaderSpin spin = spin(WINDOW, new AtomicInteger(1));

        assertEquals(7, spin.await(() -> readTaking(20_000)));
        assertEquals(List.of("read"), in.calls, "no spin before the connection has shown it is busy");
        assertTrue(spin.spinning(), "a wait of 20 µs is a busy connection's");

        in.calls.clear();
        in.emptyPolls = 2;
        assertEquals(7, spin.await(() -> readTaking(0)));
        assertEquals(List.of("available", "available", "available", "read"), in.calls);
        assertTrue(spin.spinning());
        assertTrue(spin.found(), "the spin saw the input: a poll before the read would be for nothing");
    }

    @Test
    void theSpinEndsAtTheWindowAndTheReadBlocksAsBefore() throws Exception {
        ReaderSpin spin = busy();
        in.emptyPolls = Integer.MAX_VALUE;

        long before = clock.now;
        boolean[] foundAtRead = {true};
        assertEquals(7, spin.await(() -> {
            foundAtRead[0] = spin.found();
            return readTaking(300_000);
        }));
        assertFalse(foundAtRead[0], "the window passed with nothing seen: the read (or a poll) waits");
        long polls = in.calls.stream().filter("available"::equals).count();
        assertEquals(WINDOW / clock.step, polls, "one look per clock step until the window has passed");
        assertEquals("read", in.calls.getLast());
        assertTrue(clock.now - before >= WINDOW + 300_000);
        assertTrue(spin.spinning(), "350 µs in all is still within the busy millisecond");
    }

    @Test
    void aLongWaitTurnsTheSpinOffUntilAWaitIsShortAgain() throws Exception {
        ReaderSpin spin = busy();
        in.emptyPolls = Integer.MAX_VALUE;
        spin.await(() -> readTaking(5_000_000)); // the client went quiet for 5 ms
        assertFalse(spin.spinning(), "an idle connection does not spin");

        in.calls.clear();
        in.emptyPolls = 0;
        spin.await(() -> readTaking(10_000));
        assertEquals(List.of("read"), in.calls, "no spin after a long wait");
        assertFalse(spin.found(), "no spin, nothing seen: a Unix socket's reader polls first");
        assertTrue(spin.spinning(), "a short wait makes the connection busy again");
    }

    @Test
    void aReadThatTimesOutLeavesTheConnectionIdle() throws Exception {
        ReaderSpin spin = busy();
        in.emptyPolls = Integer.MAX_VALUE;
        assertThrows(
                SocketTimeoutException.class,
                () -> spin.await(() -> {
                    clock.now += TimeUnit.SECONDS.toNanos(1); // the reader's idle time, then the timeout
                    throw new SocketTimeoutException("idle");
                }));
        assertFalse(spin.spinning(), "the connection goes to a virtual thread idle, not busy");
    }

    @Test
    void aWindowOfZeroNeverLooks() throws Exception {
        ReaderSpin spin = spin(0, new AtomicInteger(1));
        for (int i = 0; i < 3; i++) {
            spin.await(() -> readTaking(0));
            assertFalse(spin.spinning());
        }
        assertEquals(List.of("read", "read", "read"), in.calls);
        assertEquals(0, clock.now, "and the clock is never read");
    }

    @Test
    void pastTheBudgetOfSpinnersABusyReaderBlocksAtOnce() throws Exception {
        AtomicInteger spinners = new AtomicInteger(1);
        ReaderSpin first = spin(WINDOW, spinners);
        ReaderSpin second = spin(WINDOW, spinners);
        first.await(() -> readTaking(0));
        second.await(() -> readTaking(0));
        assertTrue(first.spinning() && second.spinning());

        in.calls.clear();
        in.emptyPolls = 1;
        List<String> seen = new ArrayList<>();
        first.await(() -> {
            // The spin is over before the read that may block: its place is back by then.
            seen.add("first reads with " + spinners.get() + " places left");
            return readTaking(0);
        });
        assertEquals(List.of("available", "available", "read"), in.calls);
        assertEquals(List.of("first reads with 1 places left"), seen, "the place is back once the spin ends");

        spinners.set(0);
        in.calls.clear();
        in.emptyPolls = 1;
        second.await(() -> readTaking(0));
        assertEquals(List.of("read"), in.calls, "no place left: no spin");
        assertEquals(0, spinners.get(), "and the budget is as it was");
    }

    /** Which of a wait through a layer's reads ran: "busy" (read on) or "idle" (the idle wait). */
    private final List<String> through = new ArrayList<>();

    private int throughLayer(ReaderSpin spin, boolean held, long nanos) throws IOException {
        return spin.awaitThrough(
                () -> held,
                () -> {
                    through.add("busy");
                    return readTaking(nanos);
                },
                () -> {
                    through.add("idle");
                    return readTaking(nanos);
                });
    }

    @Test
    void throughALayerABusyConnectionReadsOnWhenTheLookSeesTheNextRecord() throws Exception {
        ReaderSpin spin = busy();
        in.emptyPolls = 3; // the client's next record comes while the reader looks

        assertEquals(7, throughLayer(spin, false, 0));
        assertEquals(List.of("busy"), through, "seen by the look: no idle wait for it");
        assertEquals(List.of("available", "available", "available", "available", "read"), in.calls);
        assertTrue(spin.spinning());
    }

    @Test
    void throughALayerInputHeldAlreadyIsReadWithoutALook() throws Exception {
        ReaderSpin spin = busy();

        assertEquals(7, throughLayer(spin, true, 0));
        assertEquals(List.of("busy"), through);
        assertEquals(List.of("read"), in.calls, "the layer holds the next record: nothing to look for");
    }

    @Test
    void throughALayerAnIdleConnectionOrAnEmptyWindowWaitsIdle() throws Exception {
        ReaderSpin fresh = spin(WINDOW, new AtomicInteger(1));
        in.emptyPolls = 0;
        throughLayer(fresh, false, 20_000);
        assertEquals(List.of("idle"), through, "a new connection is not busy: it waits idle at once");
        assertEquals(List.of("read"), in.calls, "without a look");

        ReaderSpin spin = busy();
        through.clear();
        in.emptyPolls = Integer.MAX_VALUE;
        throughLayer(spin, false, 300_000);
        assertEquals(List.of("idle"), through, "nothing came within the window: the idle wait");
        assertEquals(
                WINDOW / clock.step,
                in.calls.stream().filter("available"::equals).count());
    }

    @Test
    void onARealUnixSocketItCountsWaitingBytesAndLeavesTheChannelBlocking(@TempDir Path dir) throws Exception {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("spin.sock"));
        try (ServerSocketChannel server =
                        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(address);
                SocketChannel client = SocketChannel.open(address);
                SocketChannel accepted = server.accept()) {
            // A window of a minute: a spin that could not see the waiting bytes would last it.
            long minute = TimeUnit.MINUTES.toNanos(1);
            ReaderSpin spin = new ReaderSpin(
                    Channels.newInputStream(accepted),
                    new InputSpin(minute, System::nanoTime, new AtomicInteger(1)),
                    minute,
                    System::nanoTime);
            ByteBuffer buffer = ByteBuffer.allocate(64);
            for (int round = 0; round < 3; round++) {
                client.write(ByteBuffer.wrap(new byte[28]));
                buffer.clear();
                long start = System.nanoTime();
                assertEquals(28, spin.await(() -> accepted.read(buffer)));
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "the spin saw the bytes");
                assertTrue(spin.spinning(), "the bytes were there: a busy connection");
                assertTrue(accepted.isBlocking(), "the spin only counts bytes; the channel stays blocking");
            }
            assertFalse(
                    new ReaderSpin(Channels.newInputStream(accepted)).spinning(),
                    "a new connection's reader blocks at once");
        }
    }
}
