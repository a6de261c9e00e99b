package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.export.Export;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The blkdebug QMP commands against a running server: rules, bad input, breakpoints, events. */
class BlkdebugCommandsTest {
    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M").export("d1=memory:1M"));

    private Export disk;

    @BeforeEach
    void findDisk() {
        disk = fd.export("d0");
    }

    @Test
    void severalRulesOfEachTypeInOneCallDriveAStateMachine() throws Exception {
        // state 1: the first read moves to 2; in state 2 reads fail with ENOSPC.
        assertEquals(Map.of(), fd.execute("""
                {"execute": "blkdebug-set-rules", "arguments": {"device": "d0", "rules": [
                  {"type": "set-state", "event": "read_aio", "state": 1, "new_state": 2},
                  {"type": "inject-error", "event": "read_aio", "state": 2, "errno": 28, "iotype": "read"},
                  {"type": "inject-error", "event": "write_aio", "state": 9, "errno": 5}]}}"""));
        ByteBuffer buf = ByteBuffer.allocate(512);
        disk.device().read(BlockRequest.of(BlockOp.READ, 0, buf.remaining()), buf);
        DeviceException e = assertThrows(
                DeviceException.class,
                () -> disk.device().read(BlockRequest.of(BlockOp.READ, 0, 512), ByteBuffer.allocate(512)));
        assertEquals(Errno.ENOSPC, e.errno());
        Map<String, Object> listed =
                fd.executeMap("{\"execute\": \"query-blkdebug-rules\", \"arguments\": {\"device\": \"d0\"}}");
        assertEquals(2L, listed.get("state"));
        assertEquals(3, ((List<?>) listed.get("rules")).size());
        assertEquals(List.of(1L), listed.get("armed"));
        Map<String, Object> data = fd.awaitEvent("BLOCK_IO_ERROR");
        assertEquals("read", data.get("operation"));
        assertEquals(true, data.get("nospace"));
        assertEquals("No space left on device", data.get("reason"));

        // A later call resets the state to 1, keeping the rules; clear removes them.
        fd.execute("{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": []}}");
        assertEquals(1, disk.blkdebug().state());
        fd.execute("{\"execute\": \"blkdebug-clear-rules\", \"arguments\": {\"device\": \"d0\"}}");
        assertTrue(disk.blkdebug().rules().isEmpty());
        disk.device().read(BlockRequest.of(BlockOp.READ, 0, 512), ByteBuffer.allocate(512));
    }

    @Test
    void badInputIsAClearErrorAndAppliesNothing() throws Exception {
        String[][] cases = {
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"nope\", \"rules\": []}}",
                "DeviceNotFound: Device 'nope' not found"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\"}}",
                "GenericError: Parameter 'rules' is missing"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"type\": \"inject-error\"}]}}",
                "GenericError: Parameter 'rules[0].event' is missing"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"explode\"}]}}",
                "GenericError: Parameter 'rules[0].type' does not accept value 'explode'"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"no_such\", \"type\": \"inject-error\"}]}}",
                "GenericError: rules[0].event: unknown blkdebug event 'no_such'"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"inject-error\", \"once\": \"yes\"}]}}",
                "GenericError: Invalid parameter type for 'rules[0].once', expected: boolean"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"inject-error\", \"colour\": 1}]}}",
                "GenericError: Parameter 'rules[0].colour' is unexpected"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"inject-error\", \"iotype\": \"sideways\"}]}}",
                "GenericError: rules[0].iotype: unknown iotype 'sideways'"
            },
            {
                "{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"set-state\", \"new_state\": -3}]}}",
                "GenericError: rules[0].new_state must be between 0 and"
            },
            {
                "{\"execute\": \"blkdebug-resume\", \"arguments\": {\"device\": \"d0\", \"tag\": \"t\"}}",
                "GenericError: No suspended request with tag 't'"
            },
        };
        for (String[] c : cases) {
            // A valid rule first: the bad one after it must leave even the good one unapplied.
            String cmd = c[0].replace(
                    "\"rules\": [{", "\"rules\": [{\"event\": \"write_aio\", \"type\": \"inject-error\"}, {");
            String desc = fd.error(cmd);
            assertTrue(
                    desc.startsWith(c[1].replace("rules[0]", cmd.equals(c[0]) ? "rules[0]" : "rules[1]")),
                    cmd + " -> " + desc);
            assertTrue(disk.blkdebug().rules().isEmpty(), "nothing applied after " + cmd);
        }
        // The session is still usable.
        assertEquals(
                Map.of(), fd.execute("{\"execute\": \"blkdebug-clear-rules\", \"arguments\": {\"device\": \"d0\"}}"));
    }

    @Test
    void breakpointSuspendsARequestUntilResumedAndSaysSo() throws Exception {
        fd.execute(
                "{\"execute\": \"blkdebug-set-breakpoint\", \"arguments\": {\"device\": \"d0\", \"event\": \"write_aio\", \"tag\": \"A\"}}");
        assertTrue(disk.device().mayBlock());
        CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
            try {
                disk.device().write(BlockRequest.of(BlockOp.WRITE, 4096, 512), ByteBuffer.wrap(new byte[512]));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertEquals(heldWrite("d0", "A", 4096, 512), fd.awaitEvent("BLKDEBUG_SUSPENDED"));
        assertFalse(write.isDone());
        Map<String, Object> q =
                fd.executeMap("{\"execute\": \"query-blkdebug-breakpoints\", \"arguments\": {\"device\": \"d0\"}}");
        assertEquals(1, ((List<?>) q.get("suspended")).size());
        fd.execute("{\"execute\": \"blkdebug-resume\", \"arguments\": {\"device\": \"d0\", \"tag\": \"A\"}}");
        write.get(5, TimeUnit.SECONDS);
        Map<String, Object> resumed = new HashMap<>(heldWrite("d0", "A", 4096, 512));
        resumed.put("how", "resumed");
        assertEquals(resumed, fd.awaitEvent("BLKDEBUG_RESUMED"));
    }

    /** A write held at a write_aio breakpoint, as BLKDEBUG_SUSPENDED describes it. */
    private static Map<String, Object> heldWrite(String device, String tag, long offset, long length) {
        return Map.of(
                "device",
                device,
                "tag",
                tag,
                "event",
                "write_aio",
                "operation",
                "write",
                "offset",
                offset,
                "length",
                length);
    }
}
