package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each fault type as qemu-io sees it over NBD, rules added over QMP. */
@Faultdisk(exports = "d=memory:16M")
class FaultQemuIoTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private FaultdiskClient fd;
    private String uri;

    @BeforeEach
    void start(FaultdiskClient fd, @ExportUri("d") String uri) {
        Tools.require("qemu-io");
        this.fd = fd;
        this.uri = uri;
    }

    private CommandResult io(String... commands) {
        return QemuIo.run(uri, commands);
    }

    private static void assertReports(CommandResult r, String... lines) {
        assertEquals(List.of(lines), QemuIo.reports(r.stdout()), "qemu-io said:\n" + r.stdout() + r.stderr());
    }

    private Map<String, Object> faultInjected() {
        return fd.awaitEvent("FAULT_INJECTED", WAIT).data();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> changes(Map<String, Object> event) {
        return (List<Map<String, Object>>) ((Map<String, Object>) event.get("details")).get("changes");
    }

    @Test
    void errorsWithAnyErrnoOnTheTargetedRangeOnly() {
        fd.faultAdd(
                "d",
                FaultRule.error("ENOSPC").ops("read").range(65536, 4096),
                FaultRule.error("EPERM").ops("write").range(1048576, 4096));
        CommandResult r = io("read 0 4k", "read 65536 4k", "write 1M 512", "write 2M 512");
        assertReports(
                r,
                "read 4096/4096 bytes at offset 0",
                "read failed: No space left on device",
                "write failed: Operation not permitted",
                "wrote 512/512 bytes at offset 2097152");
        Map<String, Object> event = faultInjected();
        assertEquals("error ENOSPC", event.get("action"));
        assertEquals(65536L, event.get("offset"));
        assertTrue((Long) event.get("connection") >= 1, "the event names the NBD connection");
    }

    @Test
    void readCorruptionReachesTheClientAndLeavesTheDiskIntact() {
        io("write -P 0xab 0 64k").assertOk("write the pattern");
        fd.faultAdd("d", FaultRule.corrupt("flip").with("bits", 3).range(4096, 4096));
        CommandResult bad = io("read -P 0xab 0 64k");
        assertTrue(bad.stdout().contains("Pattern verification failed"), bad.stdout());
        io("read -P 0xab 0 4k", "read -P 0xab 8k 56k").assertOk("outside the rule's range the data is right");
        Map<String, Object> e = faultInjected();
        assertEquals("corrupted read: flipped 3 bits", e.get("action"));
        for (Map<String, Object> c : changes(e)) {
            long at = (Long) c.get("offset");
            assertTrue(at >= 4096 && at < 8192, "inside the rule's range: " + c);
            assertTrue(((String) c.get("before")).matches("(ab)+"), "the stored bytes: " + c);
            assertFalse(((String) c.get("after")).matches("(ab)+"), "what the client got: " + c);
        }
        fd.faultClear("d");
        io("read -P 0xab 0 64k").assertOk("the stored data was never touched");
    }

    @Test
    void writeCorruptionPersistsOtherBytesSilently() {
        fd.faultAdd("d", FaultRule.corrupt("zero").ops("write").with("bytes", 16));
        assertReports(io("write -P 0xcd 0 4k"), "wrote 4096/4096 bytes at offset 0");
        fd.faultClear("d");
        CommandResult r = io("read -P 0xcd 0 4k");
        assertTrue(r.stdout().contains("Pattern verification failed"), r.stdout());
        Map<String, Object> change = changes(faultInjected()).getFirst();
        long at = (Long) change.get("offset");
        assertEquals("cd".repeat(16), change.get("before"));
        assertEquals("00".repeat(16), change.get("after"));
        io("read -P 0 " + at + " 16", "read -P 0xcd 0 " + at).assertOk("the zeroes are exactly where the journal says");
    }

    @Test
    void badSectorsFailUntilRewritten() {
        fd.faultAdd("d", FaultRule.badSector(8));
        assertReports(
                io("read 0 4k", "read 0 8k", "read 4096 512", "write -P 0x11 4096 512", "read -P 0x11 4096 512"),
                "read 4096/4096 bytes at offset 0",
                "read failed: Input/output error",
                "read failed: Input/output error",
                "wrote 512/512 bytes at offset 4096",
                "read 512/512 bytes at offset 4096");
    }

    @Test
    void dyingDiskPresetHasBadSectorsThatSpread() {
        fd.faultPreset(
                "d",
                "dying-disk",
                Map.of("bad-sectors", 4, "grow-probability", 1, "error-probability", 0, "slow-to-ms", 0, "seed", 9));
        assertReports(io("read 0 16M"), "read failed: Input/output error");
        for (int i = 0; i < 5; i++) {
            io("read 0 512");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> status =
                (Map<String, Object>) fd.queryFaults("d").getFirst().raw().get("status");
        assertTrue((Long) status.get("bad-sectors") >= 8, "grew with every request: " + status);
    }

    @Test
    void tornLostAndMisdirectedWrites() {
        fd.faultAdd("d", FaultRule.tornWrite().keepSectors(2).range(0, 65536));
        assertReports(io("write -P 0xcd 0 8k"), "write failed: Input/output error");
        fd.faultClear("d");
        io("read -P 0xcd 0 1k", "read -P 0 1k 7k").assertOk("the first two sectors persisted, the rest did not");

        fd.faultAdd("d", FaultRule.lostWrite().range(1048576, 65536));
        assertReports(
                io("write -P 0xef 1M 4k", "read -P 0 1M 4k"),
                "wrote 4096/4096 bytes at offset 1048576",
                "read 4096/4096 bytes at offset 1048576");
        fd.faultClear("d");

        fd.faultAdd("d", FaultRule.misdirectedWrite().range(2097152, 4096).target(3145728));
        assertReports(io("write -P 0x12 2M 4k"), "wrote 4096/4096 bytes at offset 2097152");
        fd.faultClear("d");
        io("read -P 0 2M 4k", "read -P 0x12 3M 4k").assertOk("the write landed at 3 MiB, not at 2 MiB");
    }

    @Test
    void disconnectDropsOnlyThatClient() {
        io("write -P 0x5a 0 64k").assertOk("data");
        for (boolean midReply : List.of(false, true)) {
            FaultRule disconnect = FaultRule.disconnect().ops("read").range(0, 4096);
            fd.faultAdd("d", midReply ? disconnect.midReply() : disconnect);
            CommandResult r = io("read 0 4k");
            assertNotEquals(0, r.exit(), r.stdout());
            assertTrue(r.stdout().contains("read failed"), r.stdout() + r.stderr());
            assertEquals(
                    midReply ? "disconnected mid-reply" : "disconnected",
                    faultInjected().get("action"));
            fd.faultClear("d");
            io("read -P 0x5a 0 64k").assertOk("the server serves the next client");
        }
    }

    @Test
    void aRuleForOneConnectionLeavesTheOthersAlone(FaultdiskServer server) {
        // Connection ids count up from 1 with each accepted connection: the second client from now gets this one.
        long target = server.nbd().acceptedCount() + 2;
        fd.faultAdd("d", FaultRule.error().connection(target));
        io("read 0 4k").assertOk("first client");
        assertReports(io("read 0 4k"), "read failed: Input/output error");
        io("read 0 4k").assertOk("third client");
        Event injected = fd.awaitEvent("FAULT_INJECTED", WAIT);
        assertEquals(target, injected.data().get("connection"));
    }
}
