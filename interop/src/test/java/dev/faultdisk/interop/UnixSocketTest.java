package dev.faultdisk.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.faultdisk.testkit.Command;
import dev.faultdisk.testkit.CommandResult;
import dev.faultdisk.testkit.NbdCopy;
import dev.faultdisk.testkit.QemuIo;
import dev.faultdisk.testkit.Tools;
import dev.faultdisk.wire.json.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same clients over a Unix socket ({@code --nbd unix:PATH}). */
class UnixSocketTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void clientsConnectOverUnixSocket(@TempDir Path dir) throws Exception {
        Tools.require("nbdinfo", "qemu-io", "nbdcopy");
        try (TestServer server = TestServer.onUnixSocket(dir.resolve("nbd.sock"), "d=memory:8M")) {
            String uri = server.uri("d");
            String json = Command.run(TIMEOUT, "nbdinfo", "--json", uri)
                    .assertOk("nbdinfo over a Unix socket")
                    .stdout();
            Map<?, ?> info = (Map<?, ?>) Json.parse(json);
            assertEquals(
                    8L << 20,
                    ((Number) ((Map<?, ?>) ((List<?>) info.get("exports")).getFirst()).get("export-size")).longValue());

            CommandResult io = QemuIo.run(uri, "write -P 0x3c 4097 5000", "read -P 0x3c 4097 5000")
                    .assertOk("qemu-io");
            assertEquals(
                    List.of("wrote 5000/5000 bytes at offset 4097", "read 5000/5000 bytes at offset 4097"),
                    QemuIo.reports(io.stdout()));

            NbdCopy.assertRoundTrip(dir, uri, 0x5eed_0005L, 8 << 20, "seed 0x5eed0005 over a Unix socket");
        }
    }
}
