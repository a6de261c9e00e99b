package dev.faultdisk.wire.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The spin before a blocking read, on a clock the test moves: it looks until input is there or
 * the window has passed, never on a virtual thread or with a window of 0, and only within the
 * readers' budget. And a TLS record buffer looks before each read of a record's rest.
 */
class InputSpinTest {
    private static final long WINDOW = 20_000;
    private static final long STEP = 1_000;

    private long now;

    private long tick() {
        now += STEP;
        return now;
    }

    /** A stream with nothing waiting for its first {@code empty} asks of {@code available()}. */
    private static final class Waiting extends InputStream {
        int empty;
        int asks;

        Waiting(int empty) {
            this.empty = empty;
        }

        @Override
        public int available() {
            asks++;
            return empty-- > 0 ? 0 : 1;
        }

        @Override
        public int read() {
            throw new AssertionError("the spin only asks what waits");
        }
    }

    @Test
    void looksUntilInputIsThere() throws IOException {
        Waiting in = new Waiting(3);
        assertTrue(new InputSpin(WINDOW, this::tick, new AtomicInteger(1)).lookFor(in));
        assertEquals(4, in.asks);
    }

    @Test
    void givesUpWhenTheWindowHasPassed() throws IOException {
        Waiting in = new Waiting(Integer.MAX_VALUE);
        long start = now;
        assertFalse(new InputSpin(WINDOW, this::tick, new AtomicInteger(1)).lookFor(in));
        assertEquals(WINDOW / STEP, in.asks, "one look per clock step");
        assertTrue(now - start >= WINDOW);
    }

    @Test
    void neverLooksWithAWindowOfZeroOrOnAVirtualThread() throws Exception {
        Waiting in = new Waiting(0);
        InputSpin off = new InputSpin(0, this::tick, new AtomicInteger(1));
        assertTrue(off.off());
        assertFalse(off.lookFor(in));

        InputSpin on = new InputSpin(WINDOW, this::tick, new AtomicInteger(1));
        AtomicBoolean seen = new AtomicBoolean(true);
        Thread.ofVirtual()
                .start(() -> {
                    try {
                        seen.set(on.lookFor(in));
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                })
                .join();
        assertFalse(seen.get(), "a virtual thread would hold its carrier");
        assertEquals(0, in.asks, "and nothing was asked");
        assertEquals(0, now, "nor the clock read");
    }

    @Test
    void pastTheBudgetAReaderDoesNotLookAndTheBudgetStaysWhole() throws IOException {
        AtomicInteger spinners = new AtomicInteger(0);
        Waiting in = new Waiting(0);
        assertFalse(new InputSpin(WINDOW, this::tick, spinners).lookFor(in));
        assertEquals(0, in.asks);
        assertEquals(0, spinners.get());

        spinners.set(1);
        List<Integer> during = new ArrayList<>();
        InputStream counting = new InputStream() {
            @Override
            public int available() {
                during.add(spinners.get());
                return 1;
            }

            @Override
            public int read() {
                return -1;
            }
        };
        assertTrue(new InputSpin(WINDOW, this::tick, spinners).lookFor(counting));
        assertEquals(List.of(0), during, "its place is taken while it looks");
        assertEquals(1, spinners.get(), "and given back after");
    }

    @Test
    void aBusyConnectionsRecordBufferLooksBeforeReadingTheRestOfARecord() throws IOException {
        // A record of 12 bytes (header: type, version, length) that arrives in three reads.
        byte[] record = {23, 3, 3, 0, 7, 1, 2, 3, 4, 5, 6, 7};
        List<String> calls = new ArrayList<>();
        InputStream socket = new InputStream() {
            private final ByteArrayInputStream data = new ByteArrayInputStream(record);

            @Override
            public int available() {
                calls.add("available");
                return data.available();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                calls.add("read");
                return data.read(b, off, Math.min(len, 4));
            }

            @Override
            public int read() {
                throw new AssertionError();
            }
        };
        ReaderSpin spin =
                new ReaderSpin(socket, new InputSpin(WINDOW, this::tick, new AtomicInteger(1)), 1_000_000, this::tick);
        RecordBuffer records = new RecordBuffer(socket, new byte[0], spin);
        assertTrue(records.fill());
        assertEquals(
                List.of("read", "read", "available", "read"),
                calls,
                "an idle connection's first read wakes it; a second, short, shows it busy; then it looks first");
        assertEquals(record.length, records.end() - records.start());
    }
}
