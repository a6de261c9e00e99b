package dev.faultdisk.fault.blkdebug;

import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.FLUSH_TO_DISK;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.FLUSH_TO_OS;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.NONE;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.PWRITEV;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.PWRITEV_DONE;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.PWRITEV_ZERO;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.READ_AIO;
import static dev.faultdisk.fault.blkdebug.BlkdebugEvent.WRITE_AIO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Io;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.wire.Errno;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BlkdebugDeviceTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final MemoryDevice memory = new MemoryDevice(1 << 20);

    @AfterEach
    void tearDown() {
        pool.shutdownNow();
    }

    private static BlkdebugDevice device(MemoryDevice below, Rule... rules) {
        return new BlkdebugDevice(below, new BlkdebugEngine(List.of(rules)));
    }

    private static ByteBuffer pattern(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    private static byte[] read(BlkdebugDevice d, long offset, int length) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(length);
        Io.read(d, offset, dst);
        return dst.array();
    }

    private static int errnoOf(IoAction action) {
        try {
            action.run();
            return 0;
        } catch (DeviceException e) {
            return e.errno();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    /** Runs {@code action} with a breakpoint on every event and returns the events it stopped at, in order. */
    private List<BlkdebugEvent> eventsSeen(BlkdebugDevice d, IoAction action) throws Exception {
        BlkdebugEngine engine = d.engine();
        LinkedBlockingQueue<SuspendedRequest> stops = new LinkedBlockingQueue<>();
        BlkdebugListener listener = new BlkdebugListener() {
            @Override
            public void suspended(SuspendedRequest request) {
                stops.add(request);
            }
        };
        engine.addListener(listener);
        for (BlkdebugEvent e : BlkdebugEvent.values()) {
            engine.setBreakpoint(e, e.qapiName());
        }
        Future<?> done = pool.submit(() -> {
            action.run();
            return null;
        });
        List<BlkdebugEvent> seen = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            SuspendedRequest r = stops.poll(20, TimeUnit.MILLISECONDS);
            if (r != null) {
                seen.add(r.event());
                assertTrue(engine.resume(r.tag()));
            } else if (done.isDone()) {
                break;
            }
        }
        try {
            done.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof DeviceException)) {
                throw e;
            }
        }
        for (BlkdebugEvent e : BlkdebugEvent.values()) {
            engine.removeBreakpoint(e.qapiName());
        }
        engine.removeListener(listener);
        return seen;
    }

    @Test
    void eachOperationFiresTheEventsOfTheTableInOrder() throws Exception {
        BlkdebugDevice d = device(memory);
        assertEquals(List.of(READ_AIO), eventsSeen(d, () -> read(d, 0, 512)));
        assertEquals(
                List.of(WRITE_AIO, PWRITEV, PWRITEV_DONE), eventsSeen(d, () -> Io.write(d, 0, pattern(512, 1), false)));
        assertEquals(
                List.of(FLUSH_TO_OS, FLUSH_TO_DISK), eventsSeen(d, () -> Io.flush(d)), "written since the last flush");
        assertEquals(List.of(FLUSH_TO_OS), eventsSeen(d, () -> Io.flush(d)), "nothing to flush: no flush_to_disk");
        assertEquals(
                List.of(WRITE_AIO, PWRITEV, PWRITEV_DONE, FLUSH_TO_OS),
                eventsSeen(d, () -> Io.write(d, 0, pattern(512, 1), true)));
        assertEquals(
                List.of(FLUSH_TO_OS, FLUSH_TO_DISK),
                eventsSeen(d, () -> Io.flush(d)),
                "a FUA write counts at the format level only after its own flush");
        assertEquals(
                List.of(PWRITEV_ZERO, PWRITEV_DONE),
                eventsSeen(d, () -> Io.writeZeroes(d, 0, 4096, false, false, false)));
        assertEquals(
                List.of(PWRITEV_ZERO, PWRITEV_DONE, FLUSH_TO_OS, FLUSH_TO_DISK),
                eventsSeen(d, () -> Io.writeZeroes(d, 0, 4096, true, false, true)));
        assertEquals(List.of(), eventsSeen(d, () -> Io.trim(d, 0, 4096, false)));
        assertEquals(List.of(FLUSH_TO_OS, FLUSH_TO_DISK), eventsSeen(d, () -> Io.trim(d, 0, 4096, true)));
        assertEquals(List.of(), eventsSeen(d, () -> Io.extents(d, 0, 4096, (len, flags) -> true)));
        assertEquals(
                List.of(), eventsSeen(d, () -> Io.writeZeroes(d, 0, 0, false, false, false)), "zero length: nothing");
        assertEquals(
                List.of(WRITE_AIO, PWRITEV, PWRITEV_DONE),
                eventsSeen(d, () -> Io.write(d, 0, ByteBuffer.allocate(0), false)));
    }

    @Test
    void tableEventsMatchWhatTheDeviceFires() {
        assertEquals(
                List.of(WRITE_AIO, PWRITEV, PWRITEV_DONE, FLUSH_TO_OS, FLUSH_TO_DISK),
                EventTable.events(Operation.WRITE_FUA));
        assertEquals(List.of(READ_AIO), EventTable.events(Operation.READ));
        assertEquals(List.of(), EventTable.events(Operation.TRIM));
        assertEquals(List.of(), EventTable.events(Operation.BLOCK_STATUS));
        assertEquals(EventTable.steps(Operation.FLUSH), BlkdebugEngine.eventsFor(Operation.FLUSH));
    }

    /** Which events come before the check: a rule armed by an event fails the request only if the event comes first. */
    @Test
    void ruleChecksSitWhereQemuHasThem() {
        record Case(BlkdebugEvent event, IoType type, boolean fua, boolean fails) {}
        List<Case> writes = List.of(
                new Case(WRITE_AIO, IoType.WRITE, false, true),
                new Case(PWRITEV, IoType.WRITE, false, true),
                new Case(PWRITEV_DONE, IoType.WRITE, false, false),
                new Case(WRITE_AIO, IoType.FLUSH, true, true),
                new Case(PWRITEV_DONE, IoType.FLUSH, true, true),
                new Case(FLUSH_TO_OS, IoType.WRITE, true, false),
                new Case(FLUSH_TO_OS, IoType.FLUSH, true, true));
        for (Case c : writes) {
            BlkdebugDevice d = device(
                    new MemoryDevice(1 << 20), InjectErrorRule.on(c.event()).withIoType(c.type()));
            assertEquals(
                    c.fails() ? Errno.EIO : 0, errnoOf(() -> Io.write(d, 0, pattern(512, 1), c.fua())), c.toString());
        }
        BlkdebugDevice zero = device(
                new MemoryDevice(1 << 20), InjectErrorRule.on(PWRITEV_ZERO).withIoType(IoType.WRITE_ZEROES));
        assertEquals(Errno.EIO, errnoOf(() -> Io.writeZeroes(zero, 0, 512, false, false, false)));
        BlkdebugDevice zeroWrite = device(
                new MemoryDevice(1 << 20), InjectErrorRule.on(PWRITEV_ZERO).withIoType(IoType.WRITE));
        assertEquals(0, errnoOf(() -> Io.writeZeroes(zeroWrite, 0, 512, false, false, false)));
        BlkdebugDevice bs = device(
                new MemoryDevice(1 << 20),
                InjectErrorRule.on(NONE).withIoType(IoType.BLOCK_STATUS).withSector(16));
        assertEquals(0, errnoOf(() -> Io.extents(bs, 4096, 4096, (l, f) -> true)));
        assertEquals(Errno.EIO, errnoOf(() -> Io.extents(bs, 8192, 4096, (l, f) -> true)));
    }

    @Test
    void failedWriteLeavesDataAloneStillFiresPwritevDoneAndSkipsTheFuaFlush() throws Exception {
        BlkdebugDevice d = device(
                memory,
                InjectErrorRule.on(PWRITEV)
                        .withIoType(IoType.WRITE)
                        .withErrno(Errno.ENOSPC)
                        .withOnce(true));
        Io.write(memory, 0, pattern(512, 7), false);
        List<BlkdebugEvent> seen = eventsSeen(d, () -> Io.write(d, 0, pattern(512, 1), true));
        assertEquals(List.of(WRITE_AIO, PWRITEV, PWRITEV_DONE), seen);
        byte[] data = new byte[512];
        Io.read(memory, 0, ByteBuffer.wrap(data));
        assertArrayEquals(pattern(512, 7).array(), data);
    }

    @Test
    void flushIsCheckedOnlyWhenSomethingWasWritten() throws Exception {
        BlkdebugDevice d =
                device(memory, InjectErrorRule.on(NONE).withIoType(IoType.FLUSH).withOnce(true));
        Io.flush(d); // nothing written: QEMU does not even look at the rules
        assertEquals(1, d.engine().rules().size());
        assertEquals(
                Errno.EIO,
                errnoOf(() -> Io.write(d, 0, pattern(512, 1), true)),
                "the FUA write's flush takes the rule");
        assertEquals(List.of(), d.engine().rules());

        // After a FUA write the blkdebug level is clean, idle engine or not; after a plain write it is not.
        Rule flushRule = InjectErrorRule.on(FLUSH_TO_OS).withIoType(IoType.FLUSH);
        for (Rule[] initial :
                List.of(new Rule[0], new Rule[] {InjectErrorRule.on(READ_AIO).withSector(99)})) {
            for (boolean fua : new boolean[] {true, false}) {
                BlkdebugDevice w = device(new MemoryDevice(1 << 20), initial);
                Io.write(w, 0, pattern(512, 1), fua);
                w.engine().addRules(List.of(flushRule));
                assertEquals(
                        fua ? 0 : Errno.EIO,
                        errnoOf(() -> Io.flush(w)),
                        "fua " + fua + ", engaged " + (initial.length > 0));
            }
        }

        BlkdebugDevice e = device(
                new MemoryDevice(1 << 20),
                InjectErrorRule.on(NONE).withIoType(IoType.FLUSH).withOnce(true),
                InjectErrorRule.on(NONE).withIoType(IoType.FLUSH).withOnce(true).withErrno(Errno.ENOSPC));
        Io.write(e, 0, pattern(512, 1), false);
        assertEquals(Errno.EIO, errnoOf(() -> Io.flush(e)));
        assertEquals(
                Errno.ENOSPC, errnoOf(() -> Io.flush(e)), "a failed flush leaves the data unflushed: checked again");
        Io.flush(e);
    }

    @Test
    void failedWritesAndDiscardsStillCountAsWritten() {
        BlkdebugDevice d = device(
                memory,
                InjectErrorRule.on(NONE).withIoType(IoType.DISCARD).withOnce(true),
                InjectErrorRule.on(NONE).withIoType(IoType.FLUSH).withOnce(true));
        assertEquals(Errno.EIO, errnoOf(() -> Io.trim(d, 0, 4096, false)));
        assertEquals(Errno.EIO, errnoOf(() -> Io.flush(d)));
    }

    @Test
    void enotsupOnWriteZeroesFallsBackToAWrite() throws Exception {
        BlkdebugDevice d = device(
                memory, InjectErrorRule.on(NONE).withIoType(IoType.WRITE_ZEROES).withErrno(Errno.ENOTSUP));
        Io.write(memory, 0, pattern(4096, 9), false);
        Io.writeZeroes(d, 0, 4096, false, false, false);
        assertArrayEquals(new byte[4096], read(d, 0, 4096));
        assertEquals(
                Errno.ENOTSUP, errnoOf(() -> Io.writeZeroes(d, 0, 4096, false, true, false)), "fast zero: no fallback");

        BlkdebugDevice w = device(
                new MemoryDevice(1 << 20),
                InjectErrorRule.on(NONE).withIoType(IoType.WRITE_ZEROES).withErrno(Errno.ENOTSUP),
                InjectErrorRule.on(NONE).withIoType(IoType.WRITE).withErrno(Errno.ENOSPC));
        assertEquals(
                Errno.ENOSPC,
                errnoOf(() -> Io.writeZeroes(w, 0, 4096, false, false, false)),
                "the fallback write is checked as a write");
    }

    @Test
    void enotsupOnDiscardCountsAsDone() throws Exception {
        BlkdebugDevice d = device(
                memory, InjectErrorRule.on(NONE).withIoType(IoType.DISCARD).withErrno(Errno.ENOTSUP));
        Io.write(memory, 0, pattern(65536, 3), false);
        Io.trim(d, 0, 65536, false);
        assertArrayEquals(pattern(65536, 3).array(), read(d, 0, 65536), "nothing was discarded");
    }

    @Test
    void injectedErrorCarriesErrnoAndOffset() {
        BlkdebugDevice d = device(memory, InjectErrorRule.on(READ_AIO).withErrno(Errno.ENOSPC));
        DeviceException e = assertThrows(DeviceException.class, () -> read(d, 8192, 512));
        assertEquals(Errno.ENOSPC, e.errno());
        assertEquals(8192, e.offset());
    }

    @Test
    void idleEngineJustForwards() throws Exception {
        BlkdebugDevice d = device(memory);
        assertFalse(d.engine().isEngaged());
        Io.write(d, 4096, pattern(512, 5), true);
        assertArrayEquals(pattern(512, 5).array(), read(d, 4096, 512));
        Io.flush(d);
        assertFalse(d.mayBlock());
    }

    @Test
    void ruleAddedWhileIdleSeesTheWriteHistory() throws Exception {
        BlkdebugDevice d = device(memory);
        Io.write(d, 0, pattern(512, 1), false);
        d.engine().addRules(List.of(InjectErrorRule.on(FLUSH_TO_DISK)));
        assertEquals(Errno.EIO, errnoOf(() -> Io.flush(d)), "the idle write left data to flush");
        d.engine().clearRules();
        Io.flush(d);
        d.engine().addRules(List.of(InjectErrorRule.on(FLUSH_TO_DISK)));
        Io.flush(d); // clean: no flush_to_disk, no check
    }

    // ---- breakpoints ----

    @Test
    void breakpointHoldsOneRequestWhileOthersProceed() throws Exception {
        BlkdebugDevice d = device(memory);
        BlkdebugEngine engine = d.engine();
        engine.setBreakpoint(WRITE_AIO, "A");
        assertTrue(d.mayBlock());
        Future<?> held = pool.submit(() -> {
            Io.write(d, 65536, pattern(512, 0x5a), false);
            return null;
        });
        assertTrue(engine.awaitSuspended("A", WAIT));
        assertEquals(List.of(new SuspendedRequest(1, "A", WRITE_AIO, Operation.WRITE, 65536, 512)), engine.suspended());
        assertEquals(List.of(), engine.breakpoints(), "a breakpoint fires once");
        // others proceed, including another write: the breakpoint is used up
        Io.write(d, 0, pattern(512, 1), false);
        assertArrayEquals(pattern(512, 1).array(), read(d, 0, 512));
        assertFalse(held.isDone());
        assertArrayEquals(new byte[512], read(d, 65536, 512), "the held write has not happened");
        assertTrue(engine.resume("A"));
        held.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertArrayEquals(pattern(512, 0x5a).array(), read(d, 65536, 512));
        assertFalse(engine.resume("A"), "nothing left to resume");
        assertFalse(d.mayBlock());
    }

    /** Counts suspensions so a test can wait for the n-th without polling. */
    private static java.util.concurrent.Semaphore suspensions(BlkdebugEngine engine) {
        java.util.concurrent.Semaphore s = new java.util.concurrent.Semaphore(0);
        engine.addListener(new BlkdebugListener() {
            @Override
            public void suspended(SuspendedRequest request) {
                s.release();
            }
        });
        return s;
    }

    @Test
    void removeBreakpointReleasesEverythingItHolds() throws Exception {
        BlkdebugDevice d = device(memory);
        BlkdebugEngine engine = d.engine();
        java.util.concurrent.Semaphore stops = suspensions(engine);
        engine.setBreakpoint(READ_AIO, "R");
        engine.setBreakpoint(READ_AIO, "R");
        engine.setBreakpoint(FLUSH_TO_OS, "R");
        Future<?> r1 = pool.submit(() -> read(d, 0, 512));
        // Two breakpoints on one event stop the read twice (QEMU: it yields once per breakpoint).
        assertTrue(stops.tryAcquire(2, WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(2, engine.suspended().size());
        pool.submit(() -> read(d, 512, 512)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS); // none left for it
        assertTrue(engine.resume("R"));
        assertFalse(r1.isDone(), "one resume of two");
        assertTrue(engine.removeBreakpoint("R"));
        r1.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(List.of(), engine.breakpoints(), "the flush_to_os breakpoint is gone too");
        assertFalse(engine.removeBreakpoint("R"));
    }

    @Test
    void resumeTakesTheNewestSuspensionFirst() throws Exception {
        BlkdebugDevice d = device(memory);
        BlkdebugEngine engine = d.engine();
        List<Long> resumedOffsets = new ArrayList<>();
        engine.addListener(new BlkdebugListener() {
            @Override
            public void resumed(SuspendedRequest request) {
                synchronized (resumedOffsets) {
                    resumedOffsets.add(request.offset());
                }
            }
        });
        java.util.concurrent.Semaphore stops = suspensions(engine);
        engine.setBreakpoint(READ_AIO, "T");
        Future<?> first = pool.submit(() -> read(d, 0, 512));
        assertTrue(stops.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        engine.setBreakpoint(READ_AIO, "T");
        Future<?> second = pool.submit(() -> read(d, 4096, 512));
        assertTrue(stops.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertTrue(engine.resume("T"));
        second.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertFalse(first.isDone());
        assertTrue(engine.resume("T"));
        first.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(List.of(4096L, 0L), resumedOffsets);
    }

    @Test
    void rulesOfTheEventActBeforeTheRequestIsSuspended() throws Exception {
        BlkdebugDevice d = device(
                memory,
                new SetStateRule(WRITE_AIO, 1, 2),
                InjectErrorRule.on(WRITE_AIO).withErrno(Errno.ENOSPC));
        BlkdebugEngine engine = d.engine();
        engine.setBreakpoint(WRITE_AIO, "W");
        Future<Integer> held = pool.submit(() -> errnoOf(() -> Io.write(d, 0, pattern(512, 1), false)));
        assertTrue(engine.awaitSuspended("W", WAIT));
        assertEquals(2, engine.state());
        assertEquals(1, engine.activeRules().size());
        engine.clearRules(); // the check happens after the resume, against the rules then
        engine.resume("W");
        assertEquals(0, held.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Test
    void interruptingASuspendedRequestFailsItAndUnlistsIt() throws Exception {
        BlkdebugDevice d = device(memory);
        BlkdebugEngine engine = d.engine();
        engine.setBreakpoint(FLUSH_TO_OS, "F");
        java.util.concurrent.CompletableFuture<IOException> outcome = new java.util.concurrent.CompletableFuture<>();
        Future<?> held = pool.submit(() -> {
            try {
                Io.flush(d);
                outcome.complete(null);
            } catch (IOException e) {
                outcome.complete(e);
            }
        });
        assertTrue(engine.awaitSuspended("F", WAIT));
        held.cancel(true);
        assertInstanceOf(InterruptedIOException.class, outcome.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertFalse(engine.isSuspended("F"));
        assertFalse(d.mayBlock());
    }

    @Test
    void interruptedRequestReportsAnIoError() throws Exception {
        BlkdebugDevice d = device(memory);
        d.engine().setBreakpoint(READ_AIO, "I");
        Thread.currentThread().interrupt();
        try {
            IOException e = assertThrows(IOException.class, () -> read(d, 0, 512));
            assertInstanceOf(InterruptedIOException.class, e);
            assertTrue(Thread.interrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void closeReleasesSuspendedRequests() throws Exception {
        BlkdebugDevice d = device(memory, InjectErrorRule.on(NONE));
        d.engine().setBreakpoint(READ_AIO, "C");
        Future<?> held = pool.submit(() -> read(d, 0, 512));
        assertTrue(d.engine().awaitSuspended("C", WAIT));
        d.close();
        held.get(WAIT.toMillis(), TimeUnit.MILLISECONDS); // no rule fails it any more
        assertThrows(IllegalStateException.class, () -> d.engine().setBreakpoint(READ_AIO, "C"));
    }
}
