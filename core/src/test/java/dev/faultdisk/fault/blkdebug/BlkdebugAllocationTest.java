package dev.faultdisk.fault.blkdebug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.MemoryDevice;
import dev.faultdisk.wire.BlockOp;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * With 1,000 rules engaged, some of them matching every request (their events fire in the current
 * state, set the state and arm inject-error rules whose sectors no request touches), reads and
 * writes through the engine allocate nothing: a steady load leaves no garbage, so the server's
 * heap does not grow under it.
 */
class BlkdebugAllocationTest {
    private static final int WARM_UP = 300_000;
    private static final int MEASURED = 200_000;

    @Test
    void engagedRulePathAllocatesNothingPerRequest() throws IOException {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < 990; i++) {
            // Engaged but never acting: states never reached, and events raw I/O never fires.
            BlkdebugEvent event =
                    i < 500 ? (i % 2 == 0 ? BlkdebugEvent.READ_AIO : BlkdebugEvent.WRITE_AIO) : BlkdebugEvent.L1_UPDATE;
            rules.add(InjectErrorRule.on(event).withState(i + 2).withErrno(5));
        }
        for (int i = 0; i < 5; i++) {
            // Matching every request: armed on each read and write, for sectors past the end.
            rules.add(InjectErrorRule.on(BlkdebugEvent.READ_AIO)
                    .withSector(1_000_000 + i)
                    .withErrno(5));
            rules.add(new SetStateRule(BlkdebugEvent.WRITE_AIO, 1, 1));
        }
        assertEquals(1000, rules.size());
        BlkdebugEngine engine = new BlkdebugEngine(rules);
        BlkdebugDevice device = new BlkdebugDevice(new MemoryDevice(1 << 20), engine);
        ByteBuffer data = ByteBuffer.allocateDirect(4096);
        BlockRequest read = BlockRequest.of(BlockOp.READ, 8192, 4096);
        BlockRequest write = BlockRequest.of(BlockOp.WRITE, 8192, 4096);

        run(device, read, write, data, WARM_UP); // the JIT compiles the path
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        run(device, read, write, data, MEASURED);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertEquals(5, engine.activeRules().size(), "the matching rules are armed");
        // A few objects in all may come from the measurement itself; one per request would be 3.2 MB.
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated for " + MEASURED + " requests");
    }

    private static void run(BlkdebugDevice device, BlockRequest read, BlockRequest write, ByteBuffer data, int n)
            throws IOException {
        for (int i = 0; i < n; i++) {
            data.clear();
            if ((i & 1) == 0) {
                device.read(read, data);
            } else {
                device.write(write, data);
            }
        }
    }
}
