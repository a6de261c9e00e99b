package dev.faultdisk.cli.campaign;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.cli.campaign.CampaignParser.CampaignException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A campaign file is checked whole: every problem, each with its line and member, and nothing runs. */
class CampaignParserTest {
    private static final String GOOD = """
            {
              "name": "c1",
              "nodes": [
                {"name": "a", "qmp": "127.0.0.1:4444", "nbd": "nbd://127.0.0.1:10809/a", "vars": {"port": 1}},
                {"name": "b", "qmp": "127.0.0.1:5555", "nbd": "nbd://127.0.0.1:10810/b", "vars": {"port": 2}}
              ],
              "commands": {"start": "server --port {var:port} --dir {mount}", "probe": "probe {var:port}"},
              "workload": "load {all:port}",
              "check": "check {acked} {all:name}",
              "faults": ["read-error", "torn-write"],
              "targets": {"files": ["data/*.log"]}
            }
            """;

    @Test
    void aGoodFileParses(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("c.json"), GOOD);
        CampaignSpec spec = CampaignParser.parse(f, null);
        assertEquals(2, spec.nodes().size());
        assertEquals("b", spec.nodes().get(1).export());
        assertEquals(List.of(FaultKind.READ_ERROR, FaultKind.TORN_WRITE), spec.faults());
        assertEquals(dir.resolve("campaign-c1"), spec.workdir());
        String cmd = Placeholders.expand(
                spec.start(),
                Placeholders.of(spec, spec.nodes(), 0, spec.nodes().get(1), Path.of("/m/b"), Map.of()));
        assertEquals("server --port 2 --dir /m/b", cmd);
        assertEquals(
                "load 1,2",
                Placeholders.expand(
                        spec.workload(),
                        Placeholders.of(spec, spec.nodes(), 0, spec.nodes().get(0), Path.of("/m"), Map.of())));
        assertEquals(CampaignSpec.Restart.WRITE_FAULTS, spec.restart(), "write faults restart by default");
        assertEquals(1, spec.pieces());
        assertEquals(
                "slot 3 of b",
                Placeholders.expand(
                        "slot {slot} of {name}",
                        Placeholders.of(spec, spec.nodes(), 3, spec.nodes().get(1), Path.of("/m"), Map.of())));
        Path blocks = Files.writeString(
                dir.resolve("b.json"),
                GOOD.replace("\"data/*.log\"]", "\"data/*.log\"], \"pieces\": \"blocks\"")
                        .replace("\"name\": \"c1\",", "\"name\": \"c1\", \"restart\": \"always\","));
        CampaignSpec perBlock = CampaignParser.parse(blocks, null);
        assertEquals(0, perBlock.pieces(), "one target per 4 KiB block");
        assertEquals(CampaignSpec.Restart.ALWAYS, perBlock.restart());
    }

    @Test
    void aNodeNamesItsExportByUriOrByNameAndOneOfThemIsNeeded(@TempDir Path dir) throws Exception {
        String nodes = """
                {"name": "c1", "workload": "w", "check": "c", "faults": ["read-error"],
                 "commands": {"start": "s", "probe": "p"},
                 "nodes": [
                   {"name": "a", "qmp": "127.0.0.1:4444", "nbd": "nbd://127.0.0.1:10809/da"},
                   {"name": "b", "qmp": "127.0.0.1:4444", "export": "db"}%s
                 ]}
                """;
        CampaignSpec ok = CampaignParser.parse(Files.writeString(dir.resolve("ok.json"), nodes.formatted("")), null);
        assertEquals("da", ok.nodes().get(0).export(), "the URI's export");
        assertEquals("db", ok.nodes().get(1).export());
        assertEquals("", ok.nodes().get(1).nbd(), "no URI: the server is asked at run time");
        Path bad = Files.writeString(
                dir.resolve("bad.json"), nodes.formatted(",\n   {\"name\": \"c\", \"qmp\": \"127.0.0.1:4445\"}"));
        CampaignException e = assertThrows(CampaignException.class, () -> CampaignParser.parse(bad, null));
        assertHas(e.problems(), "bad.json:6: nodes[2]: give nbd (the export's NBD URI) or export");
    }

    @Test
    void everyMistakeIsReportedWithItsLine(@TempDir Path dir) throws Exception {
        String bad = """
                {
                  "name": "c 1",
                  "filesystem": "btrfs",
                  "nodes": [
                    {"name": "a", "qmp": "nowhere", "nbd": "http://x/a"},
                    {"name": "a", "qmp": "127.0.0.1:4444", "nbd": "nbd://127.0.0.1:10809/b", "colour": "red"}
                  ],
                  "commands": {"start": "server {var:port}", "probe": "probe", "restart": "x"},
                  "workload": "load {oops}",
                  "faults": ["read-error", "meteor-strike"],
                  "timeouts": {"start-s": 0},
                  "targets": {"files": ["/abs/path"], "pieces": "halves"},
                  "restart": "sometimes"
                }
                """;
        Path f = Files.writeString(dir.resolve("bad.json"), bad);
        CampaignException e = assertThrows(CampaignException.class, () -> CampaignParser.parse(f, null));
        List<String> p = e.problems();
        String all = String.join("\n", p);
        assertHas(p, "bad.json:2: name: must be 1-32 letters");
        assertHas(p, "bad.json:3: filesystem: must be ext4 or xfs, got 'btrfs'");
        assertHas(p, "bad.json:5: nodes[0].qmp: must be HOST:PORT or unix:PATH");
        assertHas(p, "bad.json:5: nodes[0].nbd: must be an NBD URI");
        assertHas(p, "bad.json:6: nodes[1].name: 'a' names another node too");
        assertHas(p, "bad.json:6: nodes[1].colour: unknown member");
        assertHas(p, "bad.json:8: commands.start: unknown placeholder {var:port}");
        assertHas(p, "bad.json:8: commands.restart: unknown member");
        assertHas(p, "bad.json:9: workload: unknown placeholder {oops}");
        assertHas(p, "bad.json:1: check: is missing");
        assertHas(p, "bad.json:10: faults[1]: unknown fault kind 'meteor-strike'");
        assertHas(p, "bad.json:11: timeouts.start-s: must be between 1 and 3600, got 0");
        assertHas(p, "bad.json:12: targets.files[0]: must be relative to the mount point");
        assertHas(p, "bad.json:12: targets.pieces: must be a whole number");
        assertHas(p, "bad.json:13: restart: must be write-faults, always or never, got 'sometimes'");
        assertEquals(15, p.size(), all);
    }

    @Test
    void notJsonSaysSo(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("x.json"), "{\"nodes\": [}");
        CampaignException e = assertThrows(CampaignException.class, () -> CampaignParser.parse(f, null));
        assertEquals(
                List.of(f + ":1: not valid JSON: line 1, column 12: JSON parse error, expecting value"), e.problems());
    }

    private static void assertHas(List<String> problems, String start) {
        assertTrue(
                problems.stream().anyMatch(x -> x.contains(start)),
                "expected a problem containing '" + start + "' in:\n" + String.join("\n", problems));
    }
}
