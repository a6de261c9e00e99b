package dev.faultdisk.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded model test with real threads: connections write, FUA-write, zero, trim and flush the
 * same small device at once, and the power fails while they run. Each request records global
 * tickets taken just before it starts and just after it returns, which orders requests the way
 * NBD's rule needs. After the cut, every 8-byte word (each write fills its words with its own
 * id; zeroes and trims with 0) must hold a value some request may have left there:
 * <ul>
 * <li>a request M MUST survive if it was FUA, or if a flush that succeeded started after M
 *     returned;
 * <li>a word may hold the value of any request that covered it and succeeded, or its value
 *     before the round, unless that request returned before a MUST-survive request covering
 *     the word started (that one is newer and durable, so the older value is gone).
 * </ul>
 * Requests refused with ESHUTDOWN must have changed nothing. Thread scheduling varies from run to
 * run; the requests each connection sends, and the checks, do not.
 */
class WriteCacheConcurrencyTest {
    private static final int SIZE = 64 * 1024;
    private static final int WORDS = SIZE / 8;
    private static final int THREADS = 4;
    private static final int ROUNDS = 4;
    private static final long[] SEEDS = {11, 12, 13};

    @TempDir
    Path tmp;

    /** One completed request. */
    record Op(long id, char kind, long offset, int length, boolean fua, long start, long end) {
        long tag() {
            return kind == 'W' ? id : 0;
        }
    }

    @Test
    void powerFailsWhileConnectionsRunMidFlight() throws Exception {
        for (long seed : SEEDS) {
            try (WriteCacheDevice cache = new WriteCacheDevice(
                    new MemoryDevice(SIZE), CacheMode.WRITEBACK, InstantSource.system(), tmp, new PowerSwitch())) {
                SplittableRandom seeds = new SplittableRandom(seed);
                long[] image = new long[WORDS];
                int cutWhileRunning = 0;
                for (int round = 0; round < ROUNDS; round++) {
                    try {
                        cutWhileRunning += round(cache, seeds.split(), round, image) ? 1 : 0;
                    } catch (AssertionError e) {
                        throw new AssertionError("seed " + seed + ", round " + round + ": " + e.getMessage(), e);
                    }
                }
                assertTrue(cutWhileRunning > 0, "seed " + seed + ": the power never failed mid-flight");
            }
        }
    }

    /** Runs the connections until the power fails; checks the image; returns true if some request was cut. */
    private boolean round(WriteCacheDevice cache, SplittableRandom random, int round, long[] image) throws Exception {
        AtomicLong tickets = new AtomicLong();
        AtomicLong ids = new AtomicLong((round + 1L) << 32);
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(200 + random.nextInt(400));
        ConcurrentLinkedQueue<Op> done = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicLong cut = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            SplittableRandom r = random.split();
            threads.add(Thread.ofPlatform().name("conn-" + t).start(() -> {
                while (!stop.get()) {
                    try {
                        request(cache, r, tickets, ids, done);
                        started.countDown();
                    } catch (DeviceException e) {
                        if (e.errno() != Errno.ESHUTDOWN) {
                            errors.add(e);
                        }
                        cut.incrementAndGet();
                        return;
                    } catch (Throwable e) {
                        errors.add(e);
                        while (started.getCount() > 0) {
                            started.countDown();
                        }
                        return;
                    }
                }
            }));
        }
        started.await(); // then cut the power while the connections keep going
        PowerFailMode mode = PowerFailMode.values()[random.nextInt(PowerFailMode.values().length)];
        PowerFailReport report = cache.power().powerOff(mode, random.nextLong());
        stop.set(true);
        for (Thread t : threads) {
            t.join(10_000);
        }
        cache.power().powerOn();
        assertTrue(errors.isEmpty(), () -> "unexpected error: " + errors.peek());
        assertEquals(report.dirtyBytes(), report.bytesKept() + report.bytesLost());
        check(new ArrayList<>(done), readImage(cache), image, report);
        return cut.get() > 0;
    }

    private static void request(
            WriteCacheDevice cache,
            SplittableRandom r,
            AtomicLong tickets,
            AtomicLong ids,
            ConcurrentLinkedQueue<Op> done)
            throws IOException {
        int pick = r.nextInt(100);
        int sectors = 1 + r.nextInt(16);
        int length = sectors * 512;
        long offset = r.nextInt((SIZE - length) / 512 + 1) * 512L;
        boolean fua = r.nextInt(6) == 0;
        long id = ids.incrementAndGet();
        char kind = pick < 60 ? 'W' : pick < 72 ? 'Z' : pick < 80 ? 'T' : 'F';
        ByteBuffer data = null;
        if (kind == 'W') {
            data = ByteBuffer.allocate(length);
            while (data.hasRemaining()) {
                data.putLong(id);
            }
            data.flip();
        }
        long start = tickets.incrementAndGet();
        switch (kind) {
            case 'W' -> Io.write(cache, offset, data, fua);
            case 'Z' -> Io.writeZeroes(cache, offset, length, r.nextBoolean(), false, fua);
            case 'T' -> Io.trim(cache, offset, length, fua);
            default -> Io.flush(cache);
        }
        long end = tickets.incrementAndGet();
        done.add(
                kind == 'F'
                        ? new Op(id, kind, 0, 0, false, start, end)
                        : new Op(id, kind, offset, length, fua, start, end));
    }

    private static void check(List<Op> done, long[] after, long[] before, PowerFailReport report) {
        List<Op> flushes = done.stream().filter(o -> o.kind() == 'F').toList();
        long lastFlushStart = flushes.stream().mapToLong(Op::start).max().orElse(Long.MIN_VALUE);
        List<List<Op>> byWord = new ArrayList<>(WORDS);
        for (int w = 0; w < WORDS; w++) {
            byWord.add(new ArrayList<>());
        }
        for (Op o : done) {
            for (long b = o.offset(); b < o.offset() + o.length(); b += 8) {
                byWord.get((int) (b / 8)).add(o);
            }
        }
        for (int w = 0; w < WORDS; w++) {
            List<Op> covering = byWord.get(w);
            List<Op> must = new ArrayList<>();
            for (Op o : covering) {
                if (o.fua() || (o.end() < lastFlushStart && mustByFlush(o, flushes))) {
                    must.add(o);
                }
            }
            Set<Long> allowed = new HashSet<>();
            if (must.isEmpty()) {
                allowed.add(before[w]);
            }
            for (Op o : covering) {
                boolean superseded = false;
                for (Op m : must) {
                    if (o.end() < m.start()) {
                        superseded = true;
                        break;
                    }
                }
                if (!superseded) {
                    allowed.add(o.tag());
                }
            }
            if (!allowed.contains(after[w])) {
                fail("word " + w + " (byte " + w * 8L + ") holds " + Long.toHexString(after[w]) + ", allowed "
                        + allowed.stream().map(Long::toHexString).toList() + "; must survive: " + must
                        + "; " + report.summary());
            }
        }
        System.arraycopy(after, 0, before, 0, WORDS);
    }

    private static boolean mustByFlush(Op o, List<Op> flushes) {
        for (Op f : flushes) {
            if (o.end() < f.start()) {
                return true;
            }
        }
        return false;
    }

    private static long[] readImage(WriteCacheDevice cache) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        Io.read(cache, 0, b);
        b.flip();
        long[] words = new long[WORDS];
        for (int i = 0; i < WORDS; i++) {
            words[i] = b.getLong();
        }
        return words;
    }
}
