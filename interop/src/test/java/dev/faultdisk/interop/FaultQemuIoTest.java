package dev.faultdisk.interop;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each fault type as qemu-io sees it over NBD, rules added over QMP. */
class FaultQemuIoTest {

    private static Tools.Result io(FaultServer s, String... commands) {
        return QemuIo.run(s.uri("d"), commands);
    }

    private static void assertReports(Tools.Result r, String... lines) {
        assertEquals(List.of(lines), QemuIo.reports(r.stdout()), "qemu-io said:\n" + r.stdout() + r.stderr());
    }

    @Test
    void errorsWithAnyErrnoOnTheTargetedRangeOnly() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"error\", \"ops\": [\"read\"], \"offset\": 65536, \"length\": 4096, \"errno\": \"ENOSPC\"},"
                    + " {\"type\": \"error\", \"ops\": [\"write\"], \"offset\": 1048576, \"length\": 4096, \"errno\": \"EPERM\"}]");
            Tools.Result r = io(s, "read 0 4k", "read 65536 4k", "write 1M 512", "write 2M 512");
            assertReports(r, "read 4096/4096 bytes at offset 0", "read failed: No space left on device",
                    "write failed: Operation not permitted", "wrote 512/512 bytes at offset 2097152");
            Map<String, Object> event = s.qmp.awaitEvent("FAULT_INJECTED");
            assertEquals("error ENOSPC", event.get("action"));
            assertEquals(65536L, event.get("offset"));
            assertTrue((Long) event.get("connection") >= 1, "the event names the NBD connection");
        }
    }

    @Test
    void readCorruptionReachesTheClientAndLeavesTheDiskIntact() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            io(s, "write -P 0xab 0 64k").assertOk("write the pattern");
            s.qmp.addFaults("d", "[{\"type\": \"corrupt\", \"mode\": \"flip\", \"bits\": 3, \"offset\": 4096, \"length\": 4096}]");
            Tools.Result bad = io(s, "read -P 0xab 0 64k");
            assertTrue(bad.stdout().contains("Pattern verification failed"), bad.stdout());
            io(s, "read -P 0xab 0 4k", "read -P 0xab 8k 56k").assertOk("outside the rule's range the data is right");
            Map<String, Object> e = s.qmp.awaitEvent("FAULT_INJECTED");
            assertEquals("corrupted read: flipped 3 bits", e.get("action"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> changes = (List<Map<String, Object>>) ((Map<String, Object>) e.get("details")).get("changes");
            for (Map<String, Object> c : changes) {
                long at = (Long) c.get("offset");
                assertTrue(at >= 4096 && at < 8192, "inside the rule's range: " + c);
                assertTrue(((String) c.get("before")).matches("(ab)+"), "the stored bytes: " + c);
                assertFalse(((String) c.get("after")).matches("(ab)+"), "what the client got: " + c);
            }
            s.qmp.clearFaults("d");
            io(s, "read -P 0xab 0 64k").assertOk("the stored data was never touched");
        }
    }

    @Test
    void writeCorruptionPersistsOtherBytesSilently() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"corrupt\", \"ops\": [\"write\"], \"mode\": \"zero\", \"bytes\": 16}]");
            assertReports(io(s, "write -P 0xcd 0 4k"), "wrote 4096/4096 bytes at offset 0");
            s.qmp.clearFaults("d");
            Tools.Result r = io(s, "read -P 0xcd 0 4k");
            assertTrue(r.stdout().contains("Pattern verification failed"), r.stdout());
            @SuppressWarnings("unchecked")
            Map<String, Object> change = ((List<Map<String, Object>>) ((Map<String, Object>) s.qmp.awaitEvent("FAULT_INJECTED")
                    .get("details")).get("changes")).getFirst();
            long at = (Long) change.get("offset");
            assertEquals("cd".repeat(16), change.get("before"));
            assertEquals("00".repeat(16), change.get("after"));
            io(s, "read -P 0 " + at + " 16", "read -P 0xcd 0 " + at).assertOk("the zeroes are exactly where the journal says");
        }
    }

    @Test
    void badSectorsFailUntilRewritten() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"bad-sector\", \"sectors\": [8]}]");
            assertReports(io(s, "read 0 4k", "read 0 8k", "read 4096 512", "write -P 0x11 4096 512", "read -P 0x11 4096 512"),
                    "read 4096/4096 bytes at offset 0", "read failed: Input/output error",
                    "read failed: Input/output error", "wrote 512/512 bytes at offset 4096",
                    "read 512/512 bytes at offset 4096");
        }
    }

    @Test
    void dyingDiskPresetHasBadSectorsThatSpread() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.ok("{\"execute\": \"fault-preset\", \"arguments\": {\"device\": \"d\", \"preset\": \"dying-disk\", "
                    + "\"params\": {\"bad-sectors\": 4, \"grow-probability\": 1, \"error-probability\": 0, \"slow-to-ms\": 0, \"seed\": 9}}}");
            assertReports(io(s, "read 0 16M"), "read failed: Input/output error");
            for (int i = 0; i < 5; i++) {
                io(s, "read 0 512");
            }
            List<Map<String, Object>> rules = s.qmp.ok("{\"execute\": \"query-faults\", \"arguments\": {\"device\": \"d\"}}");
            @SuppressWarnings("unchecked")
            Map<String, Object> status = (Map<String, Object>) rules.getFirst().get("status");
            assertTrue((Long) status.get("bad-sectors") >= 8, "grew with every request: " + status);
        }
    }

    @Test
    void tornLostAndMisdirectedWrites() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            s.qmp.addFaults("d", "[{\"type\": \"torn-write\", \"keep-sectors\": 2, \"offset\": 0, \"length\": 65536}]");
            assertReports(io(s, "write -P 0xcd 0 8k"), "write failed: Input/output error");
            s.qmp.clearFaults("d");
            io(s, "read -P 0xcd 0 1k", "read -P 0 1k 7k").assertOk("the first two sectors persisted, the rest did not");

            s.qmp.addFaults("d", "[{\"type\": \"lost-write\", \"offset\": 1048576, \"length\": 65536}]");
            assertReports(io(s, "write -P 0xef 1M 4k", "read -P 0 1M 4k"), "wrote 4096/4096 bytes at offset 1048576",
                    "read 4096/4096 bytes at offset 1048576");
            s.qmp.clearFaults("d");

            s.qmp.addFaults("d", "[{\"type\": \"misdirected-write\", \"offset\": 2097152, \"length\": 4096, \"target\": 3145728}]");
            assertReports(io(s, "write -P 0x12 2M 4k"), "wrote 4096/4096 bytes at offset 2097152");
            s.qmp.clearFaults("d");
            io(s, "read -P 0 2M 4k", "read -P 0x12 3M 4k").assertOk("the write landed at 3 MiB, not at 2 MiB");
        }
    }

    @Test
    void disconnectDropsOnlyThatClient() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            io(s, "write -P 0x5a 0 64k").assertOk("data");
            for (String midReply : List.of("false", "true")) {
                s.qmp.addFaults("d", "[{\"type\": \"disconnect\", \"ops\": [\"read\"], \"offset\": 0, \"length\": 4096, \"mid-reply\": " + midReply + "}]");
                Tools.Result r = io(s, "read 0 4k");
                assertNotEquals(0, r.exit(), r.stdout());
                assertTrue(r.stdout().contains("read failed"), r.stdout() + r.stderr());
                assertEquals(midReply.equals("true") ? "disconnected mid-reply" : "disconnected",
                        s.qmp.awaitEvent("FAULT_INJECTED").get("action"));
                s.qmp.clearFaults("d");
                io(s, "read -P 0x5a 0 64k").assertOk("the server serves the next client");
            }
        }
    }

    @Test
    void aRuleForOneConnectionLeavesTheOthersAlone() throws Exception {
        Tools.require("qemu-io");
        try (FaultServer s = new FaultServer("d=memory:16M")) {
            // Connection ids count up from 1 with each accepted connection: the second client from now gets this one.
            long target = s.server.nbd().acceptedCount() + 2;
            s.qmp.addFaults("d", "[{\"type\": \"error\", \"connection\": " + target + "}]");
            io(s, "read 0 4k").assertOk("first client");
            assertReports(io(s, "read 0 4k"), "read failed: Input/output error");
            io(s, "read 0 4k").assertOk("third client");
            assertEquals(target, s.qmp.awaitEvent("FAULT_INJECTED").get("connection"));
        }
    }
}
