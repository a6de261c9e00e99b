package dev.faultdisk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.device.BlockRequest;
import dev.faultdisk.server.FaultdiskServer;
import dev.faultdisk.wire.BlockOp;
import dev.faultdisk.wire.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code faultdisk triggers ...} in process against an in-process server: output, JSON, exit codes. */
class TriggersCommandTest {
    private static final String HOLD_21ST = "{\"name\": \"hold-21st\", \"when\": {\"device\": \"disk0\", \"ops\":"
            + " [\"write\"], \"after\": 20}, \"actions\": [{\"action\": \"hold\", \"timeout-ms\": 60000}]}";

    private FaultdiskServer server;
    private String qmp;
    private StringWriter out;
    private StringWriter err;

    @BeforeEach
    void start() throws Exception {
        server = FaultdiskServer.builder()
                .export("disk0=memory:1M")
                .nbd(new InetSocketAddress("127.0.0.1", 0))
                .qmp(new InetSocketAddress("127.0.0.1", 0))
                .start();
        qmp = "127.0.0.1:" + ((InetSocketAddress) server.qmpAddresses().getFirst()).getPort();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private int cli(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String[] all = java.util.Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--qmp";
        all[args.length + 1] = qmp;
        return cl.execute(all);
    }

    private void write(long offset) throws Exception {
        server.exports()
                .find("disk0")
                .orElseThrow()
                .device()
                .write(BlockRequest.of(BlockOp.WRITE, offset, 512), ByteBuffer.allocate(512));
    }

    @Test
    void addListRemoveClear(@TempDir Path dir) throws Exception {
        assertEquals(ExitCodes.OK, cli("triggers", "add", HOLD_21ST));
        assertEquals("added trigger 1 (hold-21st)\n", out.toString());
        Path file = dir.resolve("t.json");
        Files.writeString(
                file,
                "[" + HOLD_21ST.replace("hold-21st", "second") + ", {\"when\": {\"event\": "
                        + "\"power-cut\"}, \"actions\": [{\"execute\": \"query-block\"}], \"repeat\": true}]");
        assertEquals(ExitCodes.OK, cli("triggers", "add", "@" + file, "--json"));
        assertEquals(Map.of("ids", List.of(2L, 3L)), Json.parse(out.toString()));

        for (int i = 0; i < 12; i++) {
            write(i * 512L);
        }
        assertEquals(ExitCodes.OK, cli("triggers", "list"));
        String[] lines = out.toString().split("\n");
        assertEquals("1 hold-21st: fired 0 of 1; waiting: 12/21 write on disk0", lines[0]);
        assertEquals("    when:    {\"device\": \"disk0\", \"ops\": [\"write\"], \"after\": 20}", lines[1]);
        assertTrue(lines[2].startsWith("    actions: [{\"action\": \"hold\", \"timeout-ms\": 60000"), lines[2]);
        assertTrue(lines[6].startsWith("3 trigger-3: fired 0 of unlimited; waiting: "), lines[6]);

        assertEquals(ExitCodes.OK, cli("triggers", "list", "--json"));
        assertEquals(3, ((List<?>) Json.parse(out.toString())).size());

        assertEquals(ExitCodes.OK, cli("triggers", "remove", "1", "2"));
        assertEquals("removed triggers 1, 2\n", out.toString());
        assertEquals(ExitCodes.OK, cli("triggers", "clear"));
        assertEquals("removed 1 trigger\n", out.toString());
        assertEquals(ExitCodes.OK, cli("triggers", "list"));
        assertEquals("no triggers\n", out.toString());
    }

    @Test
    void theCompletionScriptCompletesTheTriggersCommands() {
        StringWriter script = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(script));
        assertEquals(ExitCodes.OK, cl.execute("completion"));
        assertTrue(script.toString().contains("triggers"), "triggers is a top-level command");
        assertTrue(script.toString().contains("_picocli_faultdisk_triggers_add"), "with its subcommands");
    }

    @Test
    void badInputNamesTheMemberAndAddsNothing() {
        String bad = "[" + HOLD_21ST + ", {\"when\": {\"ops\": [\"wrte\"]}, \"actions\": [{\"action\": \"hold\"}]}]";
        assertEquals(ExitCodes.REFUSED, cli("triggers", "add", bad));
        assertTrue(
                err.toString().startsWith("faultdisk triggers add: trigger-add: GenericError: triggers[1].when.ops"),
                err.toString());
        assertTrue(server.triggers().describe().isEmpty(), "nothing added");

        assertEquals(ExitCodes.USAGE, cli("triggers", "add", "{\"when\": "));
        assertTrue(err.toString().startsWith("faultdisk triggers add: TRIGGER: not JSON: "), err.toString());
        assertEquals(ExitCodes.USAGE, cli("triggers", "add", "[1]"));
        assertEquals(
                "faultdisk triggers add: TRIGGER: a trigger is a JSON object (or an array of them), not an integer\n",
                err.toString());
        assertEquals(ExitCodes.USAGE, cli("triggers", "add", "@/nonexistent/t.json"));
        assertEquals(
                "faultdisk triggers add: cannot read /nonexistent/t.json: no such file or directory\n", err.toString());

        assertEquals(ExitCodes.REFUSED, cli("triggers", "remove", "7"));
        assertEquals("faultdisk triggers remove: trigger-remove: GenericError: no trigger 7\n", err.toString());
    }
}
