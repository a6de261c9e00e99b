package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/qmp-reference.md is exactly what the registry renders: the reference cannot drift. */
class QmpReferenceTest {
    private static final Path DOC = Path.of("..", "docs", "qmp-reference.md");

    @Test
    void referenceMatchesTheRegistry() throws Exception {
        String rendered;
        try (FaultdiskServer server = FaultdiskServer.builder()
                .export("d=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .start()) {
            rendered = QmpReference.markdown(server.commands());
            for (String name : server.commands().names()) {
                assertTrue(rendered.contains("### " + name + "\n"), name + " documented");
            }
        }
        if (Boolean.getBoolean("faultdisk.updateDocs")) {
            Files.writeString(DOC, rendered);
        }
        assertTrue(Files.exists(DOC), "docs/qmp-reference.md exists (generate it with -Dfaultdisk.updateDocs=true)");
        assertEquals(
                rendered,
                Files.readString(DOC),
                "docs/qmp-reference.md is stale: rerun with -Dfaultdisk.updateDocs=true");
    }
}
