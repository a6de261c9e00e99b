package dev.faultdisk.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.junit.Faultdisk;
import dev.faultdisk.server.FaultdiskServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Requests a hang rule holds for a client that went away are dropped: they never reach the disk. */
@Faultdisk(exports = "d=memory:64M", holdTimeoutSeconds = 0)
class HeldRequestDropTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void heldWritesOfAClosedConnectionNeverReachTheDisk(FaultdiskServer server, FaultdiskClient qmp) throws Exception {
        int port = ((InetSocketAddress) server.nbdAddress()).getPort();
        qmp.execute(
                "fault-add", Map.of("device", "d", "rules", List.of(Map.of("type", "hang", "ops", List.of("write")))));
        byte[] data = new byte[1 << 20];
        Arrays.fill(data, (byte) 0x5a);
        try (RawNbd gone = RawNbd.open(port, "d")) {
            for (int i = 0; i < 8; i++) {
                gone.header(RawNbd.WRITE, i, (long) i << 20, data.length);
                gone.out.write(data);
            }
            gone.out.flush();
            await("8 writes held").atMost(TIMEOUT).until(() -> held(server).size() == 8);
        } // the client goes away without its replies
        Event dropped =
                qmp.awaitEvent("FAULT_RELEASED", e -> "dropped".equals(e.data().get("how")), TIMEOUT);
        assertEquals("ECONNRESET", dropped.data().get("errno"), dropped.toString());
        await("held requests dropped").atMost(TIMEOUT).until(() -> held(server).isEmpty());
        qmp.execute("fault-clear", Map.of("device", "d"));
        Map<?, ?> released = (Map<?, ?>) qmp.execute("fault-release", Map.of("device", "d"));
        assertEquals(List.of(), released.get("released"), "nothing is left to release");
        try (RawNbd reader = RawNbd.open(port, "d")) {
            for (int i = 0; i < 8; i++) {
                reader.header(RawNbd.READ, i, (long) i << 20, data.length);
                assertEquals(0, reader.replyHeader(i));
                byte[] back = new byte[data.length];
                reader.in.readFully(back);
                assertArrayEquals(new byte[data.length], back, "MiB " + i + " stayed as it was");
            }
        }
    }

    private static List<?> held(FaultdiskServer server) {
        return server.exports().find("d").orElseThrow().faults().held();
    }
}
