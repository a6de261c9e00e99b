package dev.faultdisk.server;

import dev.faultdisk.device.DeviceException;
import dev.faultdisk.device.Export;
import dev.faultdisk.wire.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The blkdebug QMP commands against a running server: rules, bad input, breakpoints, events. */
class BlkdebugCommandsTest {
    private FaultdiskServer server;
    private QmpTestClient qmp;
    private Export disk;

    @BeforeEach
    void start() throws Exception {
        server = FaultdiskServer.builder().export("d0=memory:1M").export("d1=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0)).qmp(new InetSocketAddress("127.0.0.1", 0)).start();
        qmp = new QmpTestClient(server.qmpAddresses().getFirst());
        disk = server.exports().find("d0").orElseThrow();
    }

    @AfterEach
    void stop() throws Exception {
        qmp.close();
        server.close();
    }

    @Test
    void severalRulesOfEachTypeInOneCallDriveAStateMachine() throws Exception {
        // state 1: the first read moves to 2; in state 2 reads fail with ENOSPC.
        assertEquals(Map.of(), qmp.execute("""
                {"execute": "blkdebug-set-rules", "arguments": {"device": "d0", "rules": [
                  {"type": "set-state", "event": "read_aio", "state": 1, "new_state": 2},
                  {"type": "inject-error", "event": "read_aio", "state": 2, "errno": 28, "iotype": "read"},
                  {"type": "inject-error", "event": "write_aio", "state": 9, "errno": 5}]}}""").get("return"));
        ByteBuffer buf = ByteBuffer.allocate(512);
        disk.device().read(0, buf);
        DeviceException e = assertThrows(DeviceException.class, () -> disk.device().read(0, ByteBuffer.allocate(512)));
        assertEquals(Errno.ENOSPC, e.errno());
        @SuppressWarnings("unchecked")
        Map<String, Object> listed = (Map<String, Object>) qmp.execute(
                "{\"execute\": \"query-blkdebug-rules\", \"arguments\": {\"device\": \"d0\"}}").get("return");
        assertEquals(2L, listed.get("state"));
        assertEquals(3, ((List<?>) listed.get("rules")).size());
        assertEquals(List.of(1L), listed.get("armed"));
        Map<String, Object> event = qmp.awaitEvent("BLOCK_IO_ERROR");
        @SuppressWarnings("unchecked")
        Map<String, Object> data = (Map<String, Object>) event.get("data");
        assertEquals("read", data.get("operation"));
        assertEquals(true, data.get("nospace"));
        assertEquals("No space left on device", data.get("reason"));

        // A later call resets the state to 1, keeping the rules; clear removes them.
        qmp.execute("{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": []}}");
        assertEquals(1, disk.blkdebug().state());
        qmp.execute("{\"execute\": \"blkdebug-clear-rules\", \"arguments\": {\"device\": \"d0\"}}");
        assertTrue(disk.blkdebug().rules().isEmpty());
        disk.device().read(0, ByteBuffer.allocate(512));
    }

    @Test
    void badInputIsAClearErrorAndAppliesNothing() throws Exception {
        String[][] cases = {
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"nope\", \"rules\": []}}",
                        "DeviceNotFound: Device 'nope' not found"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\"}}",
                        "GenericError: Parameter 'rules' is missing"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"type\": \"inject-error\"}]}}",
                        "GenericError: Parameter 'rules[0].event' is missing"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"explode\"}]}}",
                        "GenericError: Parameter 'rules[0].type' does not accept value 'explode'"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"no_such\", \"type\": \"inject-error\"}]}}",
                        "GenericError: rules[0].event: unknown blkdebug event 'no_such'"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"inject-error\", \"once\": \"yes\"}]}}",
                        "GenericError: Invalid parameter type for 'rules[0].once', expected: boolean"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"inject-error\", \"colour\": 1}]}}",
                        "GenericError: Parameter 'rules[0].colour' is unexpected"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"inject-error\", \"iotype\": \"sideways\"}]}}",
                        "GenericError: rules[0].iotype: unknown iotype 'sideways'"},
                {"{\"execute\": \"blkdebug-set-rules\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"event\": \"read_aio\", \"type\": \"set-state\", \"new_state\": -3}]}}",
                        "GenericError: rules[0].new_state must be between 0 and"},
                {"{\"execute\": \"blkdebug-resume\", \"arguments\": {\"device\": \"d0\", \"tag\": \"t\"}}",
                        "GenericError: No suspended request with tag 't'"},
        };
        for (String[] c : cases) {
            // A valid rule first: the bad one after it must leave even the good one unapplied.
            String cmd = c[0].replace("\"rules\": [{", "\"rules\": [{\"event\": \"write_aio\", \"type\": \"inject-error\"}, {");
            Map<String, Object> reply = qmp.execute(cmd);
            String desc = QmpTestClient.errorDesc(reply);
            assertTrue(desc != null && desc.startsWith(c[1].replace("rules[0]", cmd.equals(c[0]) ? "rules[0]" : "rules[1]")),
                    cmd + " -> " + reply);
            assertTrue(disk.blkdebug().rules().isEmpty(), "nothing applied after " + cmd);
        }
        // The session is still usable.
        assertEquals(Map.of(), qmp.execute("{\"execute\": \"blkdebug-clear-rules\", \"arguments\": {\"device\": \"d0\"}}")
                .get("return"));
    }

    @Test
    void breakpointSuspendsARequestUntilResumedAndSaysSo() throws Exception {
        qmp.execute("{\"execute\": \"blkdebug-set-breakpoint\", \"arguments\": {\"device\": \"d0\", \"event\": \"write_aio\", \"tag\": \"A\"}}");
        assertTrue(disk.device().mayBlock());
        CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
            try {
                disk.device().write(4096, ByteBuffer.wrap(new byte[512]), false);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Map<String, Object> suspended = qmp.awaitEvent("BLKDEBUG_SUSPENDED");
        assertEquals(Map.of("device", "d0", "tag", "A", "event", "write_aio", "operation", "write",
                "offset", 4096L, "length", 512L), suspended.get("data"));
        assertFalse(write.isDone());
        @SuppressWarnings("unchecked")
        Map<String, Object> q = (Map<String, Object>) qmp.execute(
                "{\"execute\": \"query-blkdebug-breakpoints\", \"arguments\": {\"device\": \"d0\"}}").get("return");
        assertEquals(1, ((List<?>) q.get("suspended")).size());
        qmp.execute("{\"execute\": \"blkdebug-resume\", \"arguments\": {\"device\": \"d0\", \"tag\": \"A\"}}");
        write.get(5, TimeUnit.SECONDS);
        qmp.awaitEvent("BLKDEBUG_RESUMED");
    }
}
