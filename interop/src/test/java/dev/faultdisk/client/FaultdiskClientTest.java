package dev.faultdisk.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.export.Export;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.CacheMode;
import dev.faultdisk.wire.PowerFailMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real in-process server: typed commands, errors, events, breakpoints. */
@Faultdisk(exports = {"d0=memory:1M", "d1=memory:2M"})
class FaultdiskClientTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private FaultdiskServer server;
    private FaultdiskClient client;
    private DeviceRequests requests;

    @BeforeEach
    void start(FaultdiskClient client, FaultdiskServer server) {
        this.server = server;
        this.client = client;
        this.requests = new DeviceRequests(server);
    }

    @AfterEach
    void stop() {
        requests.close();
    }

    private Export export(String name) {
        return server.exports().find(name).orElseThrow();
    }

    private Future<Void> writeAsync(String export, long offset, int length) {
        return requests.write(export, offset, length);
    }

    @Test
    void typedQueriesDescribeTheExports() throws Exception {
        assertTrue(client.serverVersion().startsWith("faultdisk "), client.serverVersion());
        List<BlockInfo> block = client.queryBlock();
        assertEquals(List.of("d0", "d1"), block.stream().map(BlockInfo::device).toList());
        assertEquals(2L << 20, block.get(1).size());
        assertFalse(block.get(0).readOnly());
        assertTrue(client.queryCommands().containsAll(List.of("query-block", "blkdebug-set-rules", "blkdebug-resume")));

        Future<Void> write = writeAsync("d1", 0, 4096);
        assertEquals(0, client.queryBlockstats("d0").writes());
        awaitWrites("d1", 1);
        write.get(10, TimeUnit.SECONDS);
        BlockStats d1 = client.queryBlockstats("d1");
        assertEquals(new BlockStats.OpStats(1, 4096, 0), d1.op("write"));
        assertEquals(
                List.of("d0", "d1"),
                client.queryBlockstats().stream().map(BlockStats::device).toList());
    }

    private void awaitWrites(String device, long n) {
        await().atMost(WAIT).until(() -> client.queryBlockstats(device).writes() >= n);
        assertEquals(n, client.queryBlockstats(device).writes());
    }

    @Test
    void refusedCommandsThrowTheServersErrorClass() {
        QmpException unknown = assertThrows(QmpException.class, () -> client.execute("no-such-command"));
        assertEquals("CommandNotFound", unknown.errorClass());
        assertEquals("no-such-command", unknown.command());
        QmpException device = assertThrows(QmpException.class, () -> client.blkdebugClearRules("nope"));
        assertEquals("DeviceNotFound", device.errorClass());
        assertEquals("Device 'nope' not found (exports: d0, d1)", device.desc());
        QmpException bad = assertThrows(
                QmpException.class,
                () -> client.blkdebugSetRules(
                        "d0", BlkdebugRule.injectError("write_aio"), BlkdebugRule.injectError("no_such_event")));
        assertEquals("GenericError", bad.errorClass());
        assertTrue(bad.desc().contains("rules[1].event"), bad.desc());
        assertEquals(List.of(), client.queryBlkdebugRules("d0").rules(), "nothing applied");
        // the session goes on after errors
        assertEquals(2, client.queryBlock().size());
    }

    @Test
    @SuppressWarnings("try") // the subscription is only closed
    void rulesFromTheBuilderFailRequestsAndRaiseEvents() throws Exception {
        List<Event> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Subscription s = client.onEvent("BLOCK_IO_ERROR", seen::add)) {
            client.blkdebugSetRules(
                    "d0",
                    BlkdebugRule.setState("write_aio", 1, 2),
                    BlkdebugRule.injectError("write_aio")
                            .state(2)
                            .errno("ENOSPC")
                            .once());
            BlkdebugState state = client.queryBlkdebugRules("d0");
            assertEquals(1, state.state());
            assertEquals(2, state.rules().size());
            assertEquals(28L, state.rules().get(1).get("errno"));

            writeAsync("d0", 0, 512).get(10, TimeUnit.SECONDS); // state 1 -> 2
            Exception failed =
                    assertThrows(Exception.class, () -> writeAsync("d0", 0, 512).get(10, TimeUnit.SECONDS));
            assertEquals(28, ((DeviceException) failed.getCause()).errno());
            writeAsync("d0", 0, 512).get(10, TimeUnit.SECONDS); // once: gone

            Event e = client.awaitEvent("BLOCK_IO_ERROR", ev -> "d0".equals(ev.device()), WAIT);
            assertEquals("No space left on device", e.string("reason"));
            assertEquals(true, e.data().get("nospace"));
            assertTrue(
                    e.timestamp().getEpochSecond() > 1_600_000_000L,
                    e.timestamp().toString());
            await().atMost(WAIT).until(() -> !seen.isEmpty());
            assertEquals(1, seen.size(), "the listener saw it too");
            assertEquals(e.sequence(), seen.getFirst().sequence());
        }
        client.blkdebugSetRules("d0", BlkdebugRule.injectError("write_aio").errno("EIO"));
        assertThrows(Exception.class, () -> writeAsync("d0", 0, 512).get(10, TimeUnit.SECONDS));
        client.awaitEvent("BLOCK_IO_ERROR", WAIT);
        await("a closed subscription gets nothing more")
                .during(Duration.ofMillis(100))
                .atMost(WAIT)
                .until(() -> seen.size() == 1);
        client.blkdebugClearRules("d0");
        assertEquals(List.of(), client.queryBlkdebugRules("d0").rules());
    }

    @Test
    void breakpointHoldsARequestUntilResumed() throws Exception {
        try (Breakpoint bp = client.breakpoint("d0", "write_aio", "A")) {
            assertEquals(
                    List.of(new BlkdebugBreakpoints.Pending("write_aio", "A")),
                    client.queryBlkdebugBreakpoints("d0").breakpoints());
            Future<Void> write = writeAsync("d0", 8192, 4096);
            Suspension held = bp.awaitHit(WAIT);
            assertEquals(new Suspension("d0", "A", "write_aio", "write", 8192, 4096), held);
            assertEquals(List.of(held), client.queryBlkdebugBreakpoints("d0").suspended("A"));
            await("held while suspended")
                    .during(Duration.ofMillis(100))
                    .atMost(WAIT)
                    .until(() -> !write.isDone());
            assertEquals(held, bp.awaitHit(WAIT), "a second wait returns the same hit");
            bp.resume();
            write.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(), client.queryBlkdebugBreakpoints("d0").suspended());
        }
    }

    @Test
    void aHitBeforeTheWaitIsNotMissedAndAtHitActsThenResumes() throws Exception {
        Breakpoint bp = client.breakpoint("d1", "write_aio", "early");
        Future<Void> write = writeAsync("d1", 0, 512);
        // wait for the suspension by polling, so the event is surely queued before awaitHit
        await().atMost(WAIT)
                .until(() -> !client.queryBlkdebugBreakpoints("d1").suspended().isEmpty());
        List<String> order = new ArrayList<>();
        Suspension s = bp.atHit(WAIT, held -> {
            order.add("acting while " + held.operation() + " is held");
            client.blkdebugSetRules("d1", BlkdebugRule.injectError("write_aio").errno(5));
        });
        assertEquals(List.of("acting while write is held"), order);
        assertEquals(0, s.offset());
        write.get(10, TimeUnit.SECONDS); // the rule came after this write reached the event
        assertThrows(Exception.class, () -> writeAsync("d1", 0, 512).get(10, TimeUnit.SECONDS));

        client.blkdebugClearRules("d1");
        bp.rearm();
        Future<Void> second = writeAsync("d1", 4096, 512);
        assertEquals(4096, bp.awaitHit(WAIT).offset(), "the rearmed handle waits for the next hit");
        bp.close(); // not resumed: close removes it and releases the request
        second.get(10, TimeUnit.SECONDS);
    }

    @Test
    void closingAnUnhitBreakpointRemovesIt() {
        try (Breakpoint bp = client.breakpoint("d0", "flush_to_disk", "F")) {
            assertEquals(1, client.queryBlkdebugBreakpoints("d0").breakpoints().size());
            FaultdiskTimeoutException e =
                    assertThrows(FaultdiskTimeoutException.class, () -> bp.awaitHit(Duration.ofMillis(100)));
            assertTrue(e.getMessage().contains("BLKDEBUG_SUSPENDED"), e.getMessage());
        }
        assertEquals(List.of(), client.queryBlkdebugBreakpoints("d0").breakpoints());
    }

    @Test
    void aWaitingThreadDoesNotBlockCloseFromAnother() throws Exception {
        Breakpoint bp = client.breakpoint("d0", "flush_to_disk", "slow");
        AtomicReference<Thread> waiter = new AtomicReference<>();
        Future<Suspension> waiting = requests.executor().submit(() -> {
            waiter.set(Thread.currentThread());
            return bp.awaitHit(Duration.ofMillis(1500));
        });
        awaitWaiting(waiter);
        requests.executor()
                .submit(bp::close)
                .get(1, TimeUnit.SECONDS); // would wait out the 1.5 s wait if it held the handle's lock
        assertEquals(List.of(), client.queryBlkdebugBreakpoints("d0").breakpoints());
        Exception e = assertThrows(Exception.class, () -> waiting.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof FaultdiskTimeoutException, e.toString());
    }

    @Test
    void breakpointEventsOfOtherDevicesOrTagsDoNotCount() throws Exception {
        Breakpoint mine = client.breakpoint("d0", "write_aio", "X");
        try (Breakpoint other = client.breakpoint("d1", "write_aio", "X")) {
            Future<Void> w1 = writeAsync("d1", 0, 512);
            other.awaitHit(WAIT);
            assertThrows(FaultdiskTimeoutException.class, () -> mine.awaitHit(Duration.ofMillis(200)));
            other.resume();
            w1.get(10, TimeUnit.SECONDS);
        }
        Future<Void> w0 = writeAsync("d0", 0, 512);
        assertEquals("d0", mine.awaitHit(WAIT).device());
        mine.remove();
        w0.get(10, TimeUnit.SECONDS);
    }

    @Test
    void writeCacheAndPowerFailure() throws Exception {
        Export d0 = export("d0");
        client.writeCacheSetMode("d0", CacheMode.WRITEBACK);
        byte[] pattern = new byte[4096];
        java.util.Arrays.fill(pattern, (byte) 0x5a);
        d0.device()
                .write(
                        BlockRequest.of(dev.faultdisk.wire.BlockOp.WRITE, 8192, pattern.length),
                        ByteBuffer.wrap(pattern));
        WriteCacheInfo info = client.queryWriteCache("d0");
        assertEquals(CacheMode.WRITEBACK, info.mode());
        assertEquals(4096, info.dirtyBytes());
        assertEquals(1, info.dirtyWrites());
        assertTrue(info.poweredOn());

        PowerFailReport report = client.powerFail("d0", PowerFailMode.DROP_ALL, 7L);
        assertEquals(
                new PowerFailReport(
                        PowerFailMode.DROP_ALL,
                        7,
                        1,
                        4096,
                        0,
                        0,
                        1,
                        0,
                        4096,
                        List.of(new PowerFailReport.Range(8192, 4096))),
                report);
        Event e = client.awaitEvent("POWER_FAIL", ev -> "d0".equals(ev.device()), WAIT);
        assertEquals(7L, e.data().get("seed"));
        ByteBuffer back = ByteBuffer.allocate(4096);
        d0.device().read(BlockRequest.of(dev.faultdisk.wire.BlockOp.READ, 8192, back.remaining()), back);
        assertEquals(ByteBuffer.allocate(4096), back.flip(), "the unflushed write is gone");
        assertEquals(1, client.queryWriteCache("d0").counter("power-fails"));

        client.writeCacheArmFlushError("d0");
        assertTrue(client.queryWriteCache("d0").deferredErrorArmed());
        d0.device()
                .write(BlockRequest.of(dev.faultdisk.wire.BlockOp.WRITE, 0, pattern.length), ByteBuffer.wrap(pattern));
        DeviceException flush =
                assertThrows(DeviceException.class, () -> d0.device().flush(BlockRequest.flush()));
        assertEquals(5, flush.errno());
        assertEquals(1, client.queryWriteCache("d0").counter("deferred-errors"));
        QmpException bad = assertThrows(
                QmpException.class,
                () -> client.execute("write-cache-set-mode", Map.of("device", "d0", "mode", "sometimes")));
        assertEquals("GenericError", bad.errorClass());
    }

    @Test
    void commandsFromManyThreadsGetTheirOwnReplies() throws Exception {
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String device = i % 2 == 0 ? "d0" : "d1";
            answers.add(CompletableFuture.supplyAsync(
                    () -> client.queryBlockstats(device).device(), requests.executor()));
        }
        for (int i = 0; i < answers.size(); i++) {
            assertEquals(i % 2 == 0 ? "d0" : "d1", answers.get(i).get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void waitsEndWhenTheServerGoesAway() throws Exception {
        BlockingQueue<Throwable> outcome = new LinkedBlockingQueue<>();
        AtomicReference<Thread> waiter = new AtomicReference<>();
        requests.executor().execute(() -> {
            waiter.set(Thread.currentThread());
            try {
                client.awaitEvent("NEVER", WAIT);
            } catch (Throwable t) {
                outcome.add(t);
            }
        });
        awaitWaiting(waiter);
        server.close();
        Throwable t = outcome.poll(10, TimeUnit.SECONDS);
        assertNotNull(t, "the wait ended");
        assertTrue(t instanceof QmpConnectionException, t.toString());
        assertThrows(QmpConnectionException.class, () -> client.queryBlock());
        assertFalse(client.isOpen());
    }

    @Test
    void connectsOverAUnixSocket(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("qmp.sock");
        try (FaultdiskServer unix = FaultdiskServer.builder()
                        .export("u=memory:1M")
                        .nbd(new InetSocketAddress("127.0.0.1", 0))
                        .qmp(UnixDomainSocketAddress.of(socket))
                        .start();
                FaultdiskClient c = FaultdiskClient.connect("unix:" + socket)) {
            assertEquals(List.of(UnixDomainSocketAddress.of(socket)), unix.qmpAddresses());
            assertEquals("unix:" + socket, c.address());
            assertEquals("u", c.queryBlock().getFirst().device());
        }
    }

    @Test
    void connectingToNothingOrToSomethingElseIsAnIOException() throws Exception {
        int freePort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            freePort = s.getLocalPort();
        }
        IOException refused = assertThrows(IOException.class, () -> FaultdiskClient.connect("127.0.0.1", freePort));
        assertTrue(refused.getMessage().startsWith("cannot connect to 127.0.0.1:" + freePort), refused.getMessage());

        try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            IOException e = assertThrows(
                    IOException.class,
                    () -> FaultdiskClient.connect(
                            new InetSocketAddress("127.0.0.1", silent.getLocalPort()), Duration.ofMillis(300)));
            assertTrue(e.getMessage().contains("sent no QMP greeting"), e.getMessage());
        }
        IllegalArgumentException bad =
                assertThrows(IllegalArgumentException.class, () -> FaultdiskClient.connect("nonsense"));
        assertTrue(bad.getMessage().contains("HOST:PORT or unix:PATH"), bad.getMessage());
    }

    @Test
    void genericExecuteReturnsParsedJson() {
        Object r = client.execute("query-blkdebug-rules", Map.of("device", "d0"));
        assertEquals(Map.of("state", 1L, "rules", List.of(), "armed", List.of()), r);
        assertEquals(
                Map.of(), client.execute("blkdebug-clear-rules", FaultdiskClient.args("device", "d0", "unused", null)));
    }

    /** Waits until the thread {@code waiter} names is parked in a timed wait (the client's). */
    private static void awaitWaiting(AtomicReference<Thread> waiter) {
        await("the other thread to wait")
                .atMost(WAIT)
                .until(() -> waiter.get() != null && waiter.get().getState() == Thread.State.TIMED_WAITING);
    }
}
