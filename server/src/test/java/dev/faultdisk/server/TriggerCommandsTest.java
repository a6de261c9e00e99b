package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.QmpException;
import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.device.DeviceException;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.Errno;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The trigger commands over QMP: bad input adds nothing, events act, firings show in events and the journal. */
class TriggerCommandsTest {
    @RegisterExtension
    final RunningServer fd = new RunningServer(b -> b.export("d0=memory:1M").export("d1=memory:1M,cache=writeback"));

    private void write(String export, long offset) throws Exception {
        fd.export(export).device().write(BlockRequest.of(BlockOp.WRITE, offset, 512), ByteBuffer.allocate(512));
    }

    @Test
    void badInputIsAClearErrorNamingTheMemberAndAddsNothing() {
        String[][] cases = {
            {
                "{\"when\": {\"device\": \"nope\"}, \"actions\": [{\"action\": \"fail\"}]}",
                "triggers[1].when.device names no export: 'nope'"
            },
            {
                "{\"when\": {\"ops\": [\"wrte\"]}, \"actions\": [{\"action\": \"fail\"}]}",
                "triggers[1].when.ops names an unknown operation 'wrte'"
            },
            {
                "{\"when\": {}, \"actions\": [{\"execute\": \"power-fail\", \"arguments\": {}}]}",
                "triggers[1].actions[0].execute 'power-fail': Parameter 'device' is missing"
            },
            {
                "{\"when\": {}, \"actions\": [{\"execute\": \"no-such-command\"}]}",
                "triggers[1].actions[0].execute 'no-such-command': The command no-such-command has not been found"
            },
            {
                "{\"when\": {\"event\": \"power-cut\"}, \"actions\": [{\"action\": \"hold\"}]}",
                "triggers[1].actions[0].action acts on the request that fires the trigger"
            },
            {
                "{\"when\": {\"sequence\": []}, \"actions\": [{\"action\": \"fail\"}]}",
                "triggers[1].when.sequence must list 1 to 64 conditions"
            },
            {
                "{\"when\": {}, \"actions\": [{\"action\": \"explode\"}]}",
                "triggers[1].actions[0].action must be one of hold, delay, fail, tear, lose"
            },
        };
        for (String[] c : cases) {
            QmpException e = assertThrows(
                    QmpException.class,
                    () -> fd.execute(
                            "{\"execute\": \"trigger-add\", \"arguments\": {\"triggers\": [{\"when\": {}, \"actions\": [{\"action\": \"fail\"}]}, "
                                    + c[0] + "]}}"));
            assertEquals("GenericError", e.errorClass());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        assertEquals(List.of(), fd.execute("{\"execute\": \"query-triggers\"}"), "nothing was added");
        QmpException unknown = assertThrows(
                QmpException.class,
                () -> fd.execute("{\"execute\": \"trigger-remove\", \"arguments\": {\"ids\": [7]}}"));
        assertTrue(unknown.getMessage().contains("no trigger 7"), unknown.getMessage());
    }

    @Test
    void aPowerCutOfOneExportFailsTheNextWriteOfTheOtherAndTheFiringIsJournaled() throws Exception {
        Map<String, Object> added = fd.executeMap("""
                {"execute": "trigger-add", "arguments": {"triggers": [{"name": "after-cut",
                  "when": {"sequence": [{"event": "power-cut", "device": "d1"}, {"device": "d0", "ops": ["write"]}]},
                  "actions": [{"action": "fail", "errno": "ENOSPC"}]}]}}""");
        assertEquals(Map.of("ids", List.of(1L)), added);
        write("d0", 0); // before the cut: counts for nothing
        fd.execute("{\"execute\": \"power-fail\", \"arguments\": {\"device\": \"d1\"}}");
        DeviceException e = assertThrows(DeviceException.class, () -> write("d0", 512));
        assertEquals(Errno.ENOSPC, e.errno());
        write("d0", 1024); // once: the next write goes on
        Map<String, Object> fired =
                fd.client.awaitEvent("TRIGGER_FIRED", RunningServer.WAIT).data();
        assertEquals("after-cut", fired.get("name"));
        @SuppressWarnings("unchecked")
        Map<String, Object> at = (Map<String, Object>) fired.get("observation");
        assertEquals(512L, at.get("offset"));
        List<Map<String, Object>> triggers = fd.executeList("{\"execute\": \"query-triggers\"}");
        assertEquals(1L, triggers.getFirst().get("fired"));
        assertEquals(List.of(), triggers.getFirst().get("waiting"), "it fired as often as it may");
        Map<String, Object> journal = fd.executeMap("{\"execute\": \"query-fault-journal\"}");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> entries = (List<Map<String, Object>>) journal.get("entries");
        assertEquals(
                List.of("triggers-added", "trigger-fired"),
                entries.stream().map(m -> m.get("event")).toList());
        assertEquals(Map.of("removed", 1L), fd.execute("{\"execute\": \"trigger-clear\"}"));
    }
}
