package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.client.FaultRule;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.ExportUri;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A read delayed by a fault answers what the disk holds when its delay ends, though the server
 * reads its data before the delay: qemu-io sends a read, then, while the read waits, a write over
 * the same bytes; the write is answered first and the read must return the written pattern.
 */
@Faultdisk(exports = "d=memory:16M")
class DelayedReadSeesWritesTest {

    @Test
    void aReadDelayedAcrossAWriteReturnsTheWrittenBytes(FaultdiskClient fd, @ExportUri("d") String uri) {
        Tools.require("qemu-io");
        QemuIo.run(uri, "write -P 0x11 0 64k").assertOk("data");
        fd.faultAdd("d", FaultRule.delay().fixedMs(400).ops("read"));

        CommandResult r = QemuIo.run(uri, "aio_read -P 0x22 0 4k", "write -P 0x22 0 4k", "aio_flush");
        r.assertOk("qemu-io");
        assertEquals(
                List.of("wrote 4096/4096 bytes at offset 0", "read 4096/4096 bytes at offset 0"),
                QemuIo.reports(r.stdout()),
                "the write overtook the delayed read, which then read what it wrote:\n" + r.stdout());

        // Untouched bytes of the same delayed reads are still the old ones.
        QemuIo.run(uri, "read -P 0x11 4k 60k").assertOk("the rest of the range");
    }
}
