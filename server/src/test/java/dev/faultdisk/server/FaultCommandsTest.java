package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.export.Export;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import dev.faultdisk.wire.json.Json;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The fault commands against a running server: rules, bad input, held requests, presets, events, journal. */
class FaultCommandsTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M")
            .export("d1=memory:1M")
            .journal(dir.resolve("journal.jsonl"))
            .faultSeed(1234));

    private Export disk;

    @BeforeEach
    void findDisk() {
        disk = fd.export("d0");
    }

    @Test
    void addListRemoveAndClear() throws Exception {
        Map<String, Object> added = fd.executeMap("""
                {"execute": "fault-add", "arguments": {"device": "d0", "rules": [
                  {"type": "error", "ops": ["flush"], "errno": "ENOSPC", "label": "full"},
                  {"type": "delay", "ops": ["read"], "ms": 1, "seed": 9}]}}""");
        assertEquals(List.of(1L, 2L), added.get("ids"));
        assertEquals(
                Errno.ENOSPC,
                assertThrows(DeviceException.class, () -> disk.device().flush(BlockRequest.flush()))
                        .errno());
        disk.device().read(BlockRequest.of(BlockOp.READ, 0, 512), ByteBuffer.allocate(512));

        List<Map<String, Object>> rules =
                fd.executeList("{\"execute\": \"query-faults\", \"arguments\": {\"device\": \"d0\"}}");
        assertEquals(2, rules.size());
        Map<String, Object> first = rules.getFirst();
        assertEquals("d0", first.get("device"));
        assertEquals("error", first.get("type"));
        assertEquals("full", first.get("label"));
        assertEquals("active", first.get("state"));
        assertEquals(1L, first.get("fired"));
        @SuppressWarnings("unchecked")
        Map<String, Object> definition = (Map<String, Object>) rules.get(1).get("rule");
        assertEquals(9L, definition.get("seed"));
        assertEquals(1.0, definition.get("ms"));
        assertEquals(List.of(), fd.execute("{\"execute\": \"query-faults\", \"arguments\": {\"device\": \"d1\"}}"));

        Map<String, Object> event = fd.awaitEvent("FAULT_INJECTED");
        assertEquals("d0", event.get("device"));
        assertEquals(1L, event.get("rule"));
        assertEquals("flush", event.get("operation"));
        assertEquals("error ENOSPC", event.get("action"));
        assertFalse(event.containsKey("time"), "the event's timestamp says when: " + event);

        assertEquals(
                Map.of(),
                fd.execute("{\"execute\": \"fault-remove\", \"arguments\": {\"device\": \"d0\", \"ids\": [1]}}"));
        disk.device().flush(BlockRequest.flush());
        assertEquals(
                "GenericError: no fault rule 7 on export 'd0'",
                fd.error("{\"execute\": \"fault-remove\", \"arguments\": {\"device\": \"d0\", \"ids\": [2, 7]}}"));
        assertEquals(1, disk.faults().rules().size(), "an unknown id removes nothing");
        assertEquals(
                Map.of("removed", 1L),
                fd.execute("{\"execute\": \"fault-clear\", \"arguments\": {\"device\": \"d0\"}}"));
        assertFalse(disk.device().mayBlock());
    }

    @Test
    void badRuleInputIsAClearErrorAndAppliesNothing() throws Exception {
        String[][] cases = {
            {"{\"type\": \"error\", \"length\": -4096}", "GenericError: rules[1].length must be between 1 and"},
            {"{\"type\": \"error\", \"offset\": -1}", "GenericError: rules[1].offset must not be negative, got -1"},
            {
                "{\"type\": \"error\", \"probability\": 1.5}",
                "GenericError: rules[1].probability must be between 0 and 1, got 1.5"
            },
            {"{\"type\": \"gremlin\"}", "GenericError: rules[1].type names an unknown fault type 'gremlin'"},
            {
                "{\"type\": \"error\", \"offset\": 1048064, \"length\": 1024}",
                "GenericError: rules[1].length reaches past the end of the export: offset 1048064 + length 1024 > 1048576 bytes"
            },
            {
                "{\"type\": \"error\", \"ops\": [\"read\", \"defrag\"]}",
                "GenericError: rules[1].ops names an unknown operation 'defrag'"
            },
            {"{\"type\": \"corrupt\", \"bits\": -2}", "GenericError: rules[1].bits must be between 1 and"},
            {
                "{\"type\": \"throttle\", \"bytes-per-second\": -1}",
                "GenericError: rules[1].bytes-per-second must be between 1 and"
            },
            {
                "{\"type\": \"delay\", \"ms\": 5, \"shape\": \"odd\"}",
                "GenericError: rules[1].shape is not a parameter of type delay"
            },
            {"42", "GenericError: rules[1] must be an object"},
        };
        for (String[] c : cases) {
            String cmd = "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\", \"rules\": ["
                    + "{\"type\": \"hang\"}, " + c[0] + "]}}";
            String desc = fd.error(cmd);
            assertTrue(desc.startsWith(c[1]), c[0] + " -> " + desc);
            assertEquals(List.of(), disk.faults().rules(), "nothing applied after " + c[0]);
            assertFalse(disk.device().mayBlock(), "the valid hang rule before it was not applied");
        }
        assertEquals(
                "DeviceNotFound: Device 'nope' not found (exports: d0, d1)",
                fd.error("{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"nope\", \"rules\": []}}"));
        assertEquals(
                "GenericError: Parameter 'rules' is missing",
                fd.error("{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\"}}"));
        assertEquals(
                "GenericError: Parameter 'preset' does not accept value 'sad-disk'",
                fd.error(
                        "{\"execute\": \"fault-preset\", \"arguments\": {\"device\": \"d0\", \"preset\": \"sad-disk\"}}"));
        assertEquals(
                "GenericError: params.up-ms must be between 0 and 86400000, got -5",
                fd.error(
                        "{\"execute\": \"fault-preset\", \"arguments\": {\"device\": \"d0\", \"preset\": \"flaky-disk\", \"params\": {\"up-ms\": -5}}}"));
        assertEquals(List.of(), disk.faults().rules());
        // The server and the session are fine.
        assertEquals(
                Map.of("ids", List.of(1L)),
                fd.execute(
                        "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"type\": \"error\"}]}}"));
    }

    @Test
    void heldRequestsAreListedAndReleasedInOrderOrFailed() throws Exception {
        fd.execute(
                "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"type\": \"hang\", \"ops\": [\"write\"]}]}}");
        CompletableFuture<?>[] writes = new CompletableFuture<?>[3];
        for (int i = 0; i < 3; i++) {
            byte value = (byte) (i + 1);
            writes[i] = CompletableFuture.runAsync(
                    () -> {
                        try {
                            disk.device()
                                    .write(BlockRequest.of(BlockOp.WRITE, 0, 1), ByteBuffer.wrap(new byte[] {value}));
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    },
                    r -> Thread.ofVirtual().start(r)); // each held write holds its own thread
            assertEquals("held", fd.awaitEvent("FAULT_INJECTED").get("action"));
        }
        List<Map<String, Object>> held = fd.executeList("{\"execute\": \"query-held-requests\"}");
        assertEquals(List.of(1L, 2L, 3L), held.stream().map(h -> h.get("id")).toList());
        assertEquals("write", held.getFirst().get("operation"));
        assertFalse(writes[0].isDone());

        Map<String, Object> released = fd.executeMap(
                "{\"execute\": \"fault-release\", \"arguments\": {\"device\": \"d0\", \"ids\": [3, 1], \"order\": \"given\"}}");
        assertEquals(List.of(3L, 1L), released.get("released"));
        writes[2].get(10, TimeUnit.SECONDS);
        writes[0].get(10, TimeUnit.SECONDS);
        ByteBuffer b = ByteBuffer.allocate(1);
        disk.backend().read(BlockRequest.of(BlockOp.READ, 0, b.remaining()), b);
        assertEquals(1, b.get(0), "released 3 then 1: 1 landed last");
        Map<String, Object> ev = fd.awaitEvent("FAULT_RELEASED");
        assertEquals(3L, ev.get("id"));
        assertEquals("released", ev.get("how"));

        released = fd.executeMap(
                "{\"execute\": \"fault-release\", \"arguments\": {\"device\": \"d0\", \"errno\": \"EROFS\"}}");
        assertEquals(List.of(2L), released.get("released"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> writes[1].get(10, TimeUnit.SECONDS));
        assertEquals(
                Errno.EROFS,
                assertInstanceOf(DeviceException.class, e.getCause().getCause()).errno());
        assertEquals(
                "GenericError: no held request 99 on export 'd0'",
                fd.error("{\"execute\": \"fault-release\", \"arguments\": {\"device\": \"d0\", \"ids\": [99]}}"));
    }

    @Test
    void presetsAndFaultTypesAreDiscoverable() throws Exception {
        Map<String, Object> added = fd.executeMap("""
                {"execute": "fault-preset", "arguments": {"device": "d1", "preset": "dying-disk",
                 "params": {"bad-sectors": 3, "seed": 5}}}""");
        assertEquals(List.of(1L, 2L, 3L), added.get("ids"));
        List<Map<String, Object>> rules =
                fd.executeList("{\"execute\": \"query-faults\", \"arguments\": {\"device\": \"d1\"}}");
        assertEquals(
                List.of("bad-sector", "error", "delay"),
                rules.stream().map(r -> r.get("type")).toList());
        assertTrue(rules.stream().allMatch(r -> "dying-disk".equals(r.get("label"))));
        @SuppressWarnings("unchecked")
        Map<String, Object> status = (Map<String, Object>) rules.getFirst().get("status");
        assertEquals(3L, status.get("bad-sectors"));
        List<Map<String, Object>> types = fd.executeList("{\"execute\": \"query-fault-types\"}");
        assertEquals(
                List.of(
                        "error",
                        "delay",
                        "throttle",
                        "hang",
                        "corrupt",
                        "bad-sector",
                        "torn-write",
                        "lost-write",
                        "misdirected-write",
                        "disconnect"),
                types.stream().map(t -> t.get("name")).toList());
    }

    @Test
    void theJournalIsQueryableAndWrittenToTheFile() throws Exception {
        fd.execute(
                "{\"execute\": \"fault-add\", \"arguments\": {\"device\": \"d0\", \"rules\": [{\"type\": \"corrupt\", \"mode\": \"zero\", \"bytes\": 4}]}}");
        disk.device().write(BlockRequest.of(BlockOp.WRITE, 0, 8), ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        disk.device().read(BlockRequest.of(BlockOp.READ, 0, 8), ByteBuffer.allocate(8));
        Map<String, Object> journal =
                fd.executeMap("{\"execute\": \"query-fault-journal\", \"arguments\": {\"device\": \"d0\"}}");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> entries = (List<Map<String, Object>>) journal.get("entries");
        assertEquals(
                List.of("rules-added", "fault"),
                entries.stream().map(e -> e.get("event")).toList());
        @SuppressWarnings("unchecked")
        Map<String, Object> rule =
                ((List<Map<String, Object>>) entries.getFirst().get("rules")).getFirst();
        long seed = (Long) rule.get("seed");
        assertEquals(seed, entries.get(1).get("seed"), "the fault names the seed in force");
        assertEquals(2L, journal.get("last"));
        assertEquals(
                List.of(),
                ((Map<?, ?>) fd.execute("{\"execute\": \"query-fault-journal\", \"arguments\": {\"after\": 2}}"))
                        .get("entries"));

        fd.close(); // writes the file out
        List<String> lines = Files.readAllLines(dir.resolve("journal.jsonl"));
        assertEquals(2, lines.size());
        assertEquals(entries.get(1), Json.parse(lines.get(1)));
    }
}
