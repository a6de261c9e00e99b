package dev.faultdisk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.client.Event;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.export.Export;
import dev.faultdisk.export.ExportRegistry;
import dev.faultdisk.export.ExportSpec;
import dev.faultdisk.fault.blkdebug.BlkdebugConfig;
import dev.faultdisk.qmp.ArgType;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpCommand;
import dev.faultdisk.qmp.QmpError;
import dev.faultdisk.qmp.QmpServer;
import dev.faultdisk.qmp.QmpVersion;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * docs/QMP.md's "adding a command" example and its event given member by member are the code
 * between the doc markers below, verbatim, and they run: a client calls the command the first
 * registers and gets the event the second emits.
 */
class QmpEmbeddingExampleTest {
    private static final String START = "// doc:start\n";
    private static final String END = "// doc:end";

    @Test
    void theDocumentedExampleRuns() throws Exception {
        try (ExportRegistry exports = new ExportRegistry()) {
            exports.add(Export.open(ExportSpec.parse("disk0=memory:1M")));
            exports.find("disk0")
                    .orElseThrow()
                    .blkdebug()
                    .addRules(BlkdebugConfig.parse("[inject-error]\nevent = \"read_aio\"\n", "test"));
            // doc:start
            CommandRegistry registry = new CommandRegistry(new QmpVersion(0, 1, 0, "faultdisk 0.1.0"));
            registry.register(QmpCommand.builder("blkdebug-clear-rules")
                    .doc("Removes every rule of an export and resets its state to 1.")
                    .required("device", ArgType.STRING, "the export's name")
                    .returns("{}")
                    .example("-> {\"execute\": \"blkdebug-clear-rules\", \"arguments\": {\"device\": \"disk0\"}}")
                    .example("<- {\"return\": {}}")
                    .handler(args -> {
                        Export export = exports.find(args.string("device"))
                                .orElseThrow(() -> QmpError.deviceNotFound(args.string("device")));
                        export.blkdebug().clearRules();
                        return null; // {"return": {}}
                    })
                    .build());
            QmpServer server = new QmpServer(registry, QmpServer.Options.defaults());
            server.listen(new InetSocketAddress("127.0.0.1", 0)); // port 0: any free port
            server.emit("BLOCK_IO_ERROR", Map.of("device", "disk0", "operation", "write", "action", "report"));
            // doc:end
            try (server;
                    FaultdiskClient client =
                            FaultdiskClient.connect(server.addresses().getFirst(), FaultdiskClient.DEFAULT_TIMEOUT)) {
                client.execute("blkdebug-clear-rules", FaultdiskClient.args("device", "disk0"));
                // doc:members
                server.emitMembers("BLOCK_IO_ERROR", data -> {
                    data.member("device", "disk0");
                    data.member("sector", 2048L); // written unboxed
                });
                // doc:members:end
                Event event = client.awaitEvent("BLOCK_IO_ERROR", FaultdiskClient.DEFAULT_TIMEOUT);
                assertEquals(
                        List.of("device", "sector"), List.copyOf(event.data().keySet()), "in the order given");
                assertEquals(Map.of("device", "disk0", "sector", 2048L), event.data());
            }
            assertTrue(exports.find("disk0").orElseThrow().blkdebug().rules().isEmpty());
        }
    }

    @Test
    void theDocShowsTheExamplesVerbatim() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/faultdisk/server/QmpEmbeddingExampleTest.java"));
        String doc = Files.readString(Path.of("../docs/QMP.md"));
        for (String[] markers : new String[][] {{START, END}, {"// doc:members\n", "// doc:members:end"}}) {
            int from = source.indexOf(markers[0]) + markers[0].length();
            String code = source.substring(from, source.lastIndexOf('\n', source.indexOf(markers[1], from)) + 1);
            String shown = code.substring(0, code.length() - 1).stripIndent()
                    + "\n"; // a last empty line would count as unindented
            assertTrue(
                    doc.contains("```java\n" + shown + "```\n"),
                    "docs/QMP.md must show the example of QmpEmbeddingExampleTest verbatim:\n" + shown);
        }
        assertEquals(-1, doc.indexOf("export.rules()"), "no stale API in the doc");
    }
}
