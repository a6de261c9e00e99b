package dev.faultdisk.nbd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.fault.FaultTime;
import dev.faultdisk.fault.VirtualTime;
import dev.faultdisk.fault.blkdebug.BlkdebugEngine;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.CacheMode;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Delayed requests on a connection wait as entries of the fault clock's timer, not on threads of
 * their own, and no more of them than the in-flight budget: on virtual time, so the test decides
 * when each delay is over.
 */
class DelayedRequestsTest {
    private static final int BUDGET = 16;

    @Test
    void delayedReadsWaitOnTheTimerWithinTheInFlightBudget() throws Exception {
        VirtualTime time = VirtualTime.manual(Instant.parse("2030-01-01T00:00:00Z"));
        MemoryDevice memory = new MemoryDevice(1 << 20);
        for (int i = 0; i < 40; i++) {
            byte[] block = new byte[4096];
            Arrays.fill(block, (byte) (i + 1));
            memory.write(BlockRequest.of(BlockOp.WRITE, 4096L * i, 4096), ByteBuffer.wrap(block));
        }
        ExportRegistry registry = new ExportRegistry();
        Export export =
                new Export("d", memory, false, new BlkdebugEngine(), CacheMode.WRITETHROUGH, time.faultTime(), 1);
        registry.add(export);
        export.faults().add(List.of(Map.of("type", "delay", "ops", List.of("read"), "ms", 5)), "rules");
        NbdServer.Options options = NbdServer.Options.defaults().withMaxInFlight(BUDGET);
        try (NbdServer server = new NbdServer(registry, options).start(new InetSocketAddress("127.0.0.1", 0));
                RawNbdClient client = RawNbdClient.open(server.port(), "d", true, false)) {
            for (int i = 0; i < 40; i++) {
                client.send(0, NbdProtocol.CMD_READ, i + 1, 4096L * i, 4096, null);
            }
            client.flush();
            // The first 16 take the budget's slots and wait as timer entries; the reader then
            // waits for a slot: no thread sleeps, and no more requests wait than the budget.
            await().atMost(Duration.ofSeconds(20)).until(() -> time.scheduled() == BUDGET);
            assertEquals(0, time.sleepers(), "no thread sleeps on the clock for a delayed request");

            int answered = 0;
            while (answered < 40) {
                int waiting = time.scheduled();
                assertEquals(Math.min(BUDGET, 40 - answered), waiting, "delayed requests waiting at once");
                time.advance(Duration.ofMillis(5));
                Map<Long, List<RawNbdClient.Reply>> replies = client.readReplies(waiting);
                for (var e : replies.entrySet()) {
                    int i = (int) (e.getKey() - 1);
                    byte[] expected = new byte[4096];
                    Arrays.fill(expected, (byte) (i + 1));
                    assertEquals(0, RawNbdClient.errorOf(e.getValue()), "read " + i);
                    assertArrayEquals(expected, RawNbdClient.assemble(4096L * i, 4096, e.getValue()), "read " + i);
                }
                answered += waiting;
                int next = answered;
                await().atMost(Duration.ofSeconds(20)).until(() -> time.scheduled() == Math.min(BUDGET, 40 - next));
            }
            assertEquals(40, export.stats().ops(BlockOp.READ));
        }
    }

    @Test
    void onRealTimeTheConnectionsOwnThreadWaitsAndAResetEndsTheWait() throws Exception {
        MemoryDevice memory = new MemoryDevice(1 << 20);
        byte[] block = new byte[4096];
        Arrays.fill(block, (byte) 7);
        for (int i = 0; i < 32; i++) {
            memory.write(BlockRequest.of(BlockOp.WRITE, 4096L * i, 4096), ByteBuffer.wrap(block));
        }
        ExportRegistry registry = new ExportRegistry();
        Export export =
                new Export("d", memory, false, new BlkdebugEngine(), CacheMode.WRITETHROUGH, FaultTime.system(), 1);
        registry.add(export);
        export.faults().add(List.of(Map.of("type", "delay", "ops", List.of("read"), "ms", 30)), "rules");
        NbdServer.Options options = NbdServer.Options.defaults().withMaxInFlight(64);
        try (NbdServer server = new NbdServer(registry, options).start(new InetSocketAddress("127.0.0.1", 0));
                RawNbdClient client = RawNbdClient.open(server.port(), "d", true, false)) {
            long sent = System.nanoTime();
            for (int i = 0; i < 32; i++) {
                client.send(0, NbdProtocol.CMD_READ, i + 1, 4096L * i, 4096, null);
            }
            client.flush();
            Map<Long, List<RawNbdClient.Reply>> replies = client.readReplies(32);
            long took = System.nanoTime() - sent;
            assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(30), "answered after " + took + " ns");
            for (var e : replies.entrySet()) {
                assertEquals(0, RawNbdClient.errorOf(e.getValue()), "read " + e.getKey());
                long offset = 4096L * (e.getKey() - 1);
                assertArrayEquals(block, RawNbdClient.assemble(offset, 4096, e.getValue()), "read " + e.getKey());
            }
            assertTrue(!LiveThreads.named("nbd-delays-").isEmpty(), "the connection's delay thread waited for them");

            // A reset ends the waits under way: ten minutes of delay end at once.
            export.faults().clear();
            var tenMinutes = export.faults()
                    .add(List.of(Map.of("type", "delay", "ops", List.of("read"), "ms", 600_000)), "rules")
                    .getFirst();
            for (int i = 0; i < 4; i++) {
                client.send(0, NbdProtocol.CMD_READ, 100 + i, 4096L * i, 4096, null);
            }
            client.flush();
            // The rule fires as each read starts its wait: then the reset must still find them all.
            await().atMost(Duration.ofSeconds(20)).until(() -> tenMinutes.fired() == 4);
            export.faults().cutShortWaits();
            Map<Long, List<RawNbdClient.Reply>> cut = client.readReplies(4);
            assertEquals(4, cut.size());
            cut.values().forEach(r -> assertEquals(0, RawNbdClient.errorOf(r)));
        }
    }
}
